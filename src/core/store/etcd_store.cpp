// EtcdStore's state: one key for the project, one per environment, read as one snapshot
// and committed as one txn that compares every key it read (optimistic concurrency).
#include "depctl/etcd_store.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string_view>
#include <thread>

#include "core/store/etcd_client.hpp"
#include "core/store/etcd_values.hpp"
#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/validate.hpp"

namespace depctl {
using etcd_values::Snapshot;
using nlohmann::json;

namespace {

// Above this, initialize() writes environments one by one before the project key, since
// one etcd request is limited to 1.5 MiB by default.
constexpr std::size_t k_single_txn_bytes = 1024 * 1024;
// A deployment record larger than this goes in parts, so that the final write's txn (the
// environment's value plus the record) stays under etcd's request limit.
constexpr std::size_t k_inline_record_bytes = 256 * 1024;
// One environment's key and value, with room for the txn around them, under etcd's
// default --max-request-bytes (1.5 MiB).
constexpr std::size_t k_max_value_bytes = 1536 * 1024 - 16 * 1024;
constexpr std::chrono::milliseconds k_first_backoff{10};
constexpr std::chrono::milliseconds k_max_backoff{500};

// One attempt's writes: the compares and ops of its txn, and what they put and delete.
struct Writes {
    std::vector<Compare> compares;
    std::vector<TxnOp> ops;
    std::map<std::string, std::string> puts;
    std::vector<std::string> deletes;
    std::string history_key, history_value;  // a deployment's final write
};

// The txn that turns `snapshot` into `values`. Every key read is compared, so a commit
// proves nobody wrote in between.
Writes diff(const Snapshot& snapshot, const std::map<std::string, std::string>& values) {
    Writes w;
    w.compares.push_back(
        {snapshot.project->key, Compare::Target::mod, snapshot.project->mod_revision});
    for (const auto& [k, kv] : snapshot.environments)
        w.compares.push_back({k, Compare::Target::mod, kv.mod_revision});
    for (const auto& [k, v] : values) {
        const KeyValue* old = snapshot.find(k);
        if (!old) w.compares.push_back({k, Compare::Target::create, 0});  // new: still absent
        if (old && old->value == v) continue;
        w.ops.push_back({TxnOp::Kind::put, k, v, "", 0});
        w.puts[k] = v;
    }
    for (const auto& [k, kv] : snapshot.environments) {
        if (values.count(k)) continue;
        w.ops.push_back({TxnOp::Kind::remove, k, "", "", 0});
        w.deletes.push_back(k);
    }
    return w;
}

// The bytes a txn's puts carry (keys and values): with the compares' keys, what etcd's
// request limit measures.
std::size_t put_bytes(const Writes& w) {
    std::size_t bytes = 0;
    for (const TxnOp& op : w.ops) bytes += op.key.size() + op.value.size();
    return bytes;
}

// A deployment's final write (DESIGN §9): its history record put under a key that must
// still be free, on condition that the lock key is still the one created for us (fencing).
void add_final_write(Writes& w, std::string history_key, std::string value,
                     const std::string& lock_key, std::int64_t fencing_token,
                     std::vector<TxnOp>& failure) {
    w.history_key = std::move(history_key);
    w.history_value = std::move(value);
    w.compares.push_back({w.history_key, Compare::Target::create, 0});
    w.compares.push_back({lock_key, Compare::Target::create, fencing_token});
    w.ops.push_back({TxnOp::Kind::put, w.history_key, w.history_value, "", 0});
    failure.push_back({TxnOp::Kind::range, lock_key, "", "", 0});
}

// True when the keys already hold what we meant to write: an earlier attempt of ours
// landed although we never saw the answer (a timeout, then failover to another member).
bool already_written(const Snapshot& snapshot, const Writes& w) {
    if (w.puts.empty() && w.deletes.empty()) return false;
    for (const auto& [key, value] : w.puts) {
        const KeyValue* kv = snapshot.find(key);
        if (!kv || kv->value != value) return false;
    }
    for (const auto& key : w.deletes) {
        if (snapshot.find(key)) return false;
    }
    return true;
}

// The same for a final write, whose txn is all or nothing: its history key holds its record.
bool landed(EtcdClient& client, const Writes& w) {
    if (w.history_key.empty()) return false;
    const auto kv = client.get(w.history_key);
    return kv && kv->value == w.history_value;
}

// Whether a refused final write still held the lock: the failure branch read the lock key.
bool holds_lock(const TxnResult& result, std::int64_t fencing_token) {
    if (result.ranges.empty() || result.ranges.front().kvs.empty()) return false;
    return result.ranges.front().kvs.front().create_revision == fencing_token;
}

std::chrono::milliseconds jittered(std::chrono::milliseconds backoff) {
    static thread_local std::mt19937 random{std::random_device{}()};
    std::uniform_int_distribution<long long> spread(backoff.count() / 2, backoff.count());
    return std::chrono::milliseconds(spread(random));
}

}  // namespace

EtcdStore::EtcdStore(EtcdConfig config, StoreOptions options)
    : m_config(std::move(config)),
      m_options(options),
      m_client(std::make_unique<EtcdClient>(m_config)) {}

EtcdStore::~EtcdStore() = default;

std::filesystem::path EtcdStore::project_dir() const {
    return std::filesystem::current_path();
}

void EtcdStore::initialize(const State& state) {
    const auto values = etcd_values::split_state(state, m_config.prefix);
    const std::string project_key = key("project");
    const auto refuse = [&] {
        return Error(ErrorKind::Refused, "a depctl state already exists at " + location(),
                     "use it as it is, or choose another prefix");
    };
    std::size_t total = 0;
    for (const auto& [k, v] : values) total += k.size() + v.size();

    std::vector<Compare> compares;
    std::vector<TxnOp> puts;
    for (const auto& [k, v] : values) {
        compares.push_back({k, Compare::Target::create, 0});
        puts.push_back({TxnOp::Kind::put, k, v, "", 0});
    }
    if (total <= k_single_txn_bytes) {
        if (!m_client->txn(compares, puts).succeeded) {
            if (m_client->get(project_key)) throw refuse();
            throw Error(ErrorKind::Corrupt,
                        "keys of these environments already exist under " + location(),
                        "remove them with `etcdctl del --prefix " + key("env/") + "`");
        }
        return;
    }
    // Too large for one request: environments first, each created only if absent, then
    // the project key, which makes them visible. Unlisted environment keys are ignored.
    if (m_client->get(project_key)) throw refuse();
    for (std::size_t i = 0; i < puts.size(); ++i) {
        if (puts[i].key == project_key) continue;
        if (!m_client->txn({compares[i]}, {puts[i]}).succeeded) {
            throw Error(ErrorKind::Corrupt,
                        "key " + puts[i].key + " already exists under " + location());
        }
    }
    if (!m_client
             ->txn({{project_key, Compare::Target::create, 0}},
                   {{TxnOp::Kind::put, project_key, values.at(project_key), "", 0}})
             .succeeded) {
        throw refuse();
    }
}

void EtcdStore::check_fits(const State& state) {
    const auto values = etcd_values::split_state(state, m_config.prefix);
    for (const auto& env : state.environments) {
        const std::string k = key("env/" + env.id);
        const std::size_t bytes = k.size() + values.at(k).size();
        if (bytes <= k_max_value_bytes) continue;
        throw Error(ErrorKind::Refused,
                    "environment " + show_name(env.name) + " takes " + std::to_string(bytes) +
                        " bytes compressed, more than one etcd request may carry (" +
                        std::to_string(k_max_value_bytes) + ")",
                    "shorten its services' commands and environment "
                    "variables, split it, or raise etcd's --max-request-bytes (docs/etcd.md, "
                    "Limits)");
    }
}

State EtcdStore::load() {
    return etcd_values::assemble_state(etcd_values::read_snapshot(*m_client, m_config.prefix),
                                       m_config.prefix, location());
}

namespace {

// Runs `change`. After an attempt whose txn was sent to a second member (the first failed
// without an answer), a refusal may be this change meeting itself ("a service named X
// already exists"): said as uncertain, exit 6, rather than as a plain refusal.
void apply_change(const std::function<void(State&)>& change, State& state, bool maybe_ours) {
    try {
        change(state);
    } catch (const Error& e) {
        if (!maybe_ours || e.kind() != ErrorKind::Refused) throw;
        throw Error(ErrorKind::Unreachable,
                    std::string("etcd may have made this change already (a member stopped "
                                "answering during the write and the request was sent to "
                                "another, which then found: ") +
                        e.what() + ")",
                    "look at the state (e.g. `depctl service list`) before running it again");
    }
}

}  // namespace

State EtcdStore::transact(const std::function<void(State&)>& change) {
    return *commit(change, nullptr);
}

bool EtcdStore::commit_deployment(const std::string& environment_id, const json& record,
                                  const std::function<void(State&)>& change,
                                  std::int64_t fencing_token) {
    // The record goes in the state's txn: inline when small, else as parts written first
    // (parts nobody points to are harmless if the txn is refused).
    FinalWrite final{
        key("history/" + environment_id + "/"),
        history_value(environment_id, record, k_inline_record_bytes),
        key("locks/" + environment_id), fencing_token,
        [this, &environment_id, &record] { return history_value(environment_id, record, 0); }};
    return commit(change, &final).has_value();
}

std::optional<State> EtcdStore::commit(const std::function<void(State&)>& change,
                                       const FinalWrite* final) {
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + m_options.lock_timeout;
    auto backoff = k_first_backoff;
    Writes writes;  // of the last attempt that lost its compare
    State state;
    bool maybe_ours = false;  // an earlier attempt may have landed (TxnResult::resent)
    std::string parts;        // the final record's pointer, once its parts are written
    for (int attempt = 1;; ++attempt) {
        const Snapshot snapshot = etcd_values::read_snapshot(*m_client, m_config.prefix);
        if (final ? landed(*m_client, writes) : already_written(snapshot, writes)) return state;
        state = etcd_values::assemble_state(snapshot, m_config.prefix, location());
        apply_change(change, state, maybe_ours);
        validate_state(state, ErrorKind::Refused);

        writes = diff(snapshot, etcd_values::split_state(state, m_config.prefix));
        std::vector<TxnOp> failure;
        if (final) {
            std::string history_key = next_history_key(final->history_dir);
            // A record that fits inline alone may not fit beside the state's values (#14
            // item 4): then it goes in parts, and the txn carries only the pointer.
            const bool fits = put_bytes(writes) + history_key.size() + final->record_value.size() <=
                              k_max_value_bytes;
            if (!fits && parts.empty()) parts = final->in_parts();
            add_final_write(writes, std::move(history_key), fits ? final->record_value : parts,
                            final->lock_key, final->fencing_token, failure);
        }
        if (writes.ops.empty()) return state;
        const TxnResult result = m_client->txn(writes.compares, writes.ops, failure);
        if (result.succeeded) return state;
        maybe_ours = maybe_ours || result.resent;
        if (final && !holds_lock(result, final->fencing_token)) return std::nullopt;

        // Someone committed in between: run the change again on their result.
        const auto now = std::chrono::steady_clock::now();
        if (now + backoff > deadline) {
            const auto waited =
                std::chrono::duration_cast<std::chrono::milliseconds>(now - started).count();
            throw Error(
                ErrorKind::Busy,
                "the state at " + location() + " kept changing under other depctl processes (" +
                    std::to_string(attempt) + " attempts in " + std::to_string(waited) + " ms)",
                "try again, or raise --lock-timeout");
        }
        std::this_thread::sleep_for(jittered(backoff));
        backoff = std::min(backoff * 2, k_max_backoff);
    }
}

}  // namespace depctl
