#include "core/store/etcd_values.hpp"

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "depctl/error.hpp"
#include "depctl/state_fast_read.hpp"
#include "depctl/state_fast_write.hpp"
#include "depctl/validate.hpp"
#include "util/deflate.hpp"

namespace depctl::etcd_values {
using nlohmann::json;

namespace {

constexpr std::size_t k_compress_from = 1024;
constexpr std::string_view k_zlib_marker = "depctl-zlib:";
constexpr std::size_t k_max_environment_bytes = std::size_t{1} << 30;  // as a state file
// zlib's fastest level first: at 2,000 services 0.7 MB of JSON deflates to 41 kB in 1.3 ms
// of CPU against 3.8 ms for 36 kB at level 6. A value that comes out larger than
// k_small_value_bytes is deflated again at level 6, so what fits under etcd's request
// limit (DESIGN §7) is what fitted before.
constexpr int k_fast_level = 1;
constexpr int k_small_level = 6;
constexpr std::size_t k_small_value_bytes = 256 * 1024;

// An environment's value: its JSON, or over k_compress_from bytes the marker and the JSON
// deflated (zlib; any level reads back), so that one environment holds 20,000 services
// under etcd's request limit. Values written before compression (plain JSON) read as they
// are.
std::string encode_environment(const std::string& json_text) {
    if (json_text.size() < k_compress_from) return json_text;
    std::string packed = util::deflate_bytes(json_text, k_fast_level);
    if (packed.size() > k_small_value_bytes) packed = util::deflate_bytes(json_text, k_small_level);
    return std::string(k_zlib_marker) + packed;
}

std::string decode_environment(const KeyValue& kv) {
    if (kv.value.rfind(k_zlib_marker, 0) != 0) return kv.value;
    const std::string_view data = std::string_view(kv.value).substr(k_zlib_marker.size());
    auto text = util::inflate_bytes(data, k_max_environment_bytes);
    if (!text)
        throw Error(ErrorKind::Corrupt, "key " + kv.key + " holds a damaged compressed value",
                    k_corrupt_hint);
    return std::move(*text);
}

// The common case without a JSON tree of the environments (building, dumping and parsing
// one again was most of a command at 2,000 services): the project key's document without
// environment_ids, with the listed environments' values spliced in as its "environments",
// read by the direct reader. Anything unusual — a value the direct reader does not take,
// an environment whose id is not its key's, one value holding two environments, a state
// that fails validation — returns nullopt, and the tree below reads it with its messages.
std::optional<State> assemble_fast(const Snapshot& snapshot, const std::string& prefix) {
    json doc = json::parse(snapshot.project->value, nullptr, false);
    if (!doc.is_object()) return std::nullopt;
    const auto listed = doc.find("environment_ids");
    if (listed == doc.end() || !listed->is_array()) return std::nullopt;
    std::vector<std::string> ids;
    for (const auto& id : *listed) {
        if (!id.is_string()) return std::nullopt;
        ids.push_back(id.get<std::string>());
    }
    doc.erase("environment_ids");
    std::string text;
    try {
        text = doc.dump();  // "{...}": reopened to add the environments
    } catch (const json::exception&) {
        return std::nullopt;
    }
    text.pop_back();
    text += text.size() > 1 ? ",\"environments\":[" : "\"environments\":[";
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const KeyValue* kv = snapshot.find(prefix + "/env/" + ids[i]);
        if (!kv) return std::nullopt;
        if (i) text += ',';
        text += decode_environment(*kv);
    }
    text += "]}";
    auto state = read_state_fast(text);
    if (!state || state->environments.size() != ids.size()) return std::nullopt;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (state->environments[i].id != ids[i]) return std::nullopt;
    }
    try {
        validate_state(*state, ErrorKind::Corrupt);
    } catch (const Error&) {
        return std::nullopt;
    }
    return state;
}

}  // namespace

Snapshot read_snapshot(EtcdClient& client, const std::string& prefix) {
    // One txn with two ranges is atomic: both see the same revision.
    const std::string env_prefix = prefix + "/env/";
    const TxnResult result = client.txn(
        {}, {TxnOp{TxnOp::Kind::range, prefix + "/project", "", "", 0},
             TxnOp{TxnOp::Kind::range, env_prefix, "", prefix_range_end(env_prefix), 0}});
    if (result.ranges.size() != 2)
        throw Error(ErrorKind::Unreachable, "etcd answered a snapshot read without its two ranges");
    Snapshot snapshot;
    if (!result.ranges[0].kvs.empty()) snapshot.project = result.ranges[0].kvs.front();
    for (const auto& kv : result.ranges[1].kvs) snapshot.environments.emplace(kv.key, kv);
    return snapshot;
}

std::map<std::string, std::string> split_state(const State& state, const std::string& prefix) {
    // Each environment straight from the model (the bytes of its tree's dump(), a unit test
    // says so); the tree only for the small project key, or for text that is not UTF-8,
    // whose error the tree's dump() gives.
    std::map<std::string, std::string> values;
    json ids = json::array();
    std::optional<json> tree;
    for (std::size_t i = 0; i < state.environments.size(); ++i) {
        const Environment& env = state.environments[i];
        ids.push_back(env.id);
        auto text = write_environment_compact(env);
        if (!text) {
            if (!tree) tree = to_json(state);
            text = (*tree)["environments"][i].dump();
        }
        values[prefix + "/env/" + env.id] = encode_environment(*text);
    }
    State head;
    head.schema_version = state.schema_version;
    head.project = state.project;
    json doc = to_json(head);
    doc.erase("environments");
    doc["environment_ids"] = ids;
    values[prefix + "/project"] = doc.dump();
    return values;
}

State assemble_state(const Snapshot& snapshot, const std::string& prefix,
                     const std::string& location) {
    if (!snapshot.project) {
        throw Error(
            ErrorKind::NotFound, "no state at " + location,
            "run `depctl init` with this --state / DEPCTL_STATE, or check the URL's prefix");
    }
    if (auto state = assemble_fast(snapshot, prefix)) return std::move(*state);
    try {
        json doc = json::parse(snapshot.project->value);
        json environments = json::array();
        if (doc.is_object() && doc.contains("environment_ids")) {
            for (const auto& id : doc.at("environment_ids")) {
                const std::string key = prefix + "/env/" + id.get<std::string>();
                const KeyValue* kv = snapshot.find(key);
                if (!kv)
                    throw Error(ErrorKind::Corrupt,
                                "key " + key + " of a listed environment is missing");
                environments.push_back(json::parse(decode_environment(*kv)));
            }
            doc.erase("environment_ids");
            doc["environments"] = environments;
        }
        return parse_state(doc.dump(), location, k_corrupt_hint);
    } catch (const json::exception& e) {
        throw Error(ErrorKind::Corrupt, "state " + location + " is unreadable: " + e.what(),
                    k_corrupt_hint);
    }
}

}  // namespace depctl::etcd_values
