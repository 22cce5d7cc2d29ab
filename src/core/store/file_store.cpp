#include "depctl/file_store.hpp"

#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/store/file_queue.hpp"
#include "core/store/lock_wait.hpp"
#include "core/store/store_ids.hpp"
#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/validate.hpp"
#include "util/files.hpp"

namespace depctl {
namespace fs = std::filesystem;

namespace {

// Writes `text` over the start of the file at `path` and blanks the rest with spaces,
// allocating nothing when the file is at least that long (a full disk). Not atomic: a
// crash in the middle leaves an unreadable record, which reads as one without an outcome.
bool overwrite_in_place(const fs::path& path, std::string_view text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat info {};
    bool ok = ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode) &&
              static_cast<std::size_t>(info.st_size) >= text.size();
    if (ok) {
        std::string bytes(text);
        bytes.resize(static_cast<std::size_t>(info.st_size), ' ');
        std::size_t done = 0;
        while (ok && done < bytes.size()) {
            const ssize_t n =
                ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
            if (n < 0 && errno == EINTR) continue;
            ok = n > 0;
            if (ok) done += static_cast<std::size_t>(n);
        }
        ok = ok && ::fsync(fd) == 0;
    }
    ::close(fd);
    return ok;
}

constexpr const char* k_history_header = R"({"depctl_history":1})";

// The lock file holds the holder and the fencing token; on release only the token stays,
// so the next holder's token is one more.
class FileEnvironmentLock final : public EnvironmentLock {
public:
    FileEnvironmentLock(FileLock lock, LockHolder holder, std::int64_t token)
        : m_lock(std::move(lock)), m_holder(std::move(holder)), m_token(token) {}
    ~FileEnvironmentLock() override {
        m_lock.write_note(nlohmann::json{{"fencing_token", m_token}}.dump());
    }
    const LockHolder& holder() const override { return m_holder; }
    std::int64_t fencing_token() const override { return m_token; }

private:
    FileLock m_lock;
    LockHolder m_holder;
    std::int64_t m_token;
};

std::int64_t last_token(const fs::path& path) {
    const auto text = read_file(path);
    if (!text || text->empty()) return 0;
    const auto doc = nlohmann::json::parse(*text, nullptr, false);
    if (!doc.is_object() || !doc.contains("fencing_token") ||
        !doc["fencing_token"].is_number_integer())
        return 0;
    return doc["fencing_token"].get<std::int64_t>();
}

std::optional<LockHolder> read_holder(const fs::path& path) {
    const auto text = read_file(path);
    if (!text || text->empty()) return std::nullopt;
    const auto doc = nlohmann::json::parse(*text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
    return LockHolder::from_json(doc);
}

// Without --wait: busy when the lock is held, and when others wait for it (nobody jumps the
// queue).
FileLock take_unless_queued(const fs::path& path, const fs::path& queue) {
    ensure_own_directory(queue);
    const std::size_t waiting = queued_waiters(queue);
    if (waiting == 0) {
        FileLock lock = FileLock::try_acquire(path);
        if (lock.locked()) return lock;
    }
    const bool held = !FileLock::try_acquire(path).locked();
    throw busy_error(held, held ? read_holder(path) : std::nullopt, waiting);
}

// --wait: first come, first served (DESIGN §9 "Queue"). The waiter with no live ticket ahead
// of it takes the lock as soon as it is free; the others look again every 50 ms at most.
FileLock wait_in_queue(const fs::path& path, const fs::path& queue, const LockHolder& me,
                       LockWait wait, const CancelSignal* cancel,
                       std::chrono::milliseconds counter_timeout) {
    const FileQueueTicket ticket =
        FileQueueTicket::join(queue, me, wait == LockWait::newest, counter_timeout);
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
        if (const auto by = ticket.superseded_by()) throw superseded_error(*by);
        if (ticket.ahead() == 0) {
            FileLock lock = FileLock::try_acquire(path);
            if (lock.locked()) {
                // Replaced while it took the lock: it does not run.
                if (const auto by = ticket.superseded_by()) throw superseded_error(*by);
                return lock;
            }
        }
        if (cancel) {  // Ctrl-C ends the wait at once
            if (cancel->level() != CancelLevel::none) throw canceled_while_waiting();
            pollfd fd{cancel->fd(), POLLIN, 0};
            ::poll(&fd, 1, static_cast<int>(pause.count()));
            if (cancel->level() != CancelLevel::none) throw canceled_while_waiting();
        } else {
            std::this_thread::sleep_for(pause);
        }
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

}  // namespace

FileStore::FileStore(fs::path state_file, StoreOptions options)
    : m_state_file(std::move(state_file)), m_dir(m_state_file.parent_path()), m_options(options) {}

fs::path FileStore::project_dir() const {
    return m_dir.filename() == ".depctl" ? m_dir.parent_path() : m_dir;
}

std::string FileStore::read_state_bytes() const {
    auto bytes = read_file(m_state_file);
    if (!bytes) {
        throw Error(ErrorKind::NotFound, "no state at " + m_state_file.string(),
                    "run `depctl init` to create one, or check --state / DEPCTL_STATE");
    }
    return std::move(*bytes);
}

void FileStore::initialize(const State& state) {
    ensure_directory(m_dir);
    FileLock lock = FileLock::acquire(m_dir / "state.lock", m_options.lock_timeout);
    if (!lock.locked())
        throw Error(ErrorKind::Busy,
                    "state " + m_state_file.string() + " is locked by another depctl process");
    if (fs::exists(m_state_file)) {
        throw Error(ErrorKind::Refused, "a depctl state already exists at " + m_state_file.string(),
                    "use it as it is, or remove it first");
    }
    write_file_atomic(m_state_file, serialize_state(state));
}

State FileStore::load() {
    // No lock needed: commits replace the file by rename, so a reader sees old or new.
    return parse_state(read_state_bytes(), m_state_file.string());
}

State FileStore::transact(const std::function<void(State&)>& change) {
    if (!fs::exists(m_state_file)) read_state_bytes();  // throws the "no state" error
    FileLock lock = FileLock::acquire(m_dir / "state.lock", m_options.lock_timeout);
    if (!lock.locked()) {
        throw Error(ErrorKind::Busy,
                    "state " + m_state_file.string() +
                        " is locked by another depctl process (waited " +
                        std::to_string(m_options.lock_timeout.count()) + " ms)",
                    "try again, or raise --lock-timeout");
    }
    const std::string before = read_state_bytes();
    State state = parse_state(before, m_state_file.string());
    change(state);
    validate_state(state, ErrorKind::Refused);
    const std::string after = serialize_state(state);
    if (after != before) write_file_atomic(m_state_file, after);
    return state;
}

std::unique_ptr<EnvironmentLock> FileStore::lock_environment(const std::string& environment_id,
                                                             const LockHolder& me, LockWait wait) {
    if (!path_safe_id(environment_id))
        throw Error(ErrorKind::Refused, "invalid environment id " + show_name(environment_id));
    ensure_own_directory(m_dir / "locks");
    // Where the deployment will be recorded is checked before any step runs.
    ensure_own_directory(m_dir / "history");
    ensure_own_directory(log_root());
    const fs::path path = m_dir / "locks" / (environment_id + ".lock");
    const fs::path queue = m_dir / "locks" / (environment_id + ".queue");
    FileLock lock = wait == LockWait::no ? take_unless_queued(path, queue)
                                         : wait_in_queue(path, queue, me, wait, m_wait_cancel,
                                                         m_options.lock_timeout);
    const std::int64_t token = last_token(path) + 1;
    nlohmann::json note = me.to_json();
    note["fencing_token"] = token;
    lock.write_note(note.dump());
    return std::make_unique<FileEnvironmentLock>(std::move(lock), me, token);
}

std::optional<LockHolder> FileStore::environment_lock_holder(const std::string& environment_id) {
    if (!path_safe_id(environment_id)) return std::nullopt;
    const fs::path path = m_dir / "locks" / (environment_id + ".lock");
    if (!fs::exists(path)) return std::nullopt;
    FileLock probe = FileLock::try_acquire(path);
    if (probe.locked()) return std::nullopt;  // nobody holds it
    return read_holder(path);
}

void FileStore::append_history(const std::string& environment_id, const nlohmann::json& record) {
    if (!path_safe_id(environment_id))
        throw Error(ErrorKind::Refused, "invalid environment id " + show_name(environment_id));
    ensure_own_directory(m_dir / "history");
    append_line_durable(m_dir / "history" / (environment_id + ".jsonl"), k_history_header,
                        record.dump());
}

std::vector<nlohmann::json> FileStore::list_history(const std::string& environment_id) {
    return query_history(environment_id, {});
}

std::vector<nlohmann::json> FileStore::query_history(const std::string& environment_id,
                                                     const HistoryFilter& filter) {
    std::vector<nlohmann::json> records;
    if (!path_safe_id(environment_id)) return records;
    const auto text = read_file(m_dir / "history" / (environment_id + ".jsonl"));
    if (!text) return records;
    // Complete lines after the header; a torn last record (no newline) is left out, so a
    // crash leaves a valid prefix.
    const std::size_t first = text->find('\n');
    if (first == std::string::npos) return records;
    const std::size_t body_end = text->rfind('\n') + 1;
    // Newest first from the end, so `newest` stops the reading early; reversed at the end.
    // memrchr and memmem (vectorised in glibc) because the history of a large environment
    // is megabytes, of which only a few records are parsed.
    const char* data = text->data();
    for (std::size_t end = body_end - 1; end > first;) {
        const auto* previous = static_cast<const char*>(::memrchr(data, '\n', end));
        const std::size_t start =
            static_cast<std::size_t>(previous - data) + 1;  // `first` bounds the search
        const std::string_view line(data + start, end - start);
        end = start - 1;
        if (!filter.containing.empty() &&
            !::memmem(line.data(), line.size(), filter.containing.data(),
                      filter.containing.size())) {
            continue;
        }
        auto record = nlohmann::json::parse(line, nullptr, false);
        if (record.is_discarded() || !record.is_object()) continue;
        records.push_back(std::move(record));
        if (filter.newest > 0 && records.size() == filter.newest) break;
    }
    std::reverse(records.begin(), records.end());
    return records;
}

// DESIGN §9 "Failure while recording": the outcome goes first where the next lock holder
// looks, over the RUNNING record (into the room reserved for it when the deployment
// started, so this works on a full disk), then the history and the state, each tried
// whatever became of the other. The next deploy or stop finishes what failed here.
bool FileStore::commit_deployment(const std::string& environment_id, const nlohmann::json& record,
                                  const std::function<void(State&)>& change,
                                  std::int64_t /*fencing_token: flock cannot be lost*/) {
    bool staged = true;
    try {
        put_running_record(environment_id, record, 0);
    } catch (const std::exception&) {
        staged = false;
    }
    std::string failed;
    try {
        append_history(environment_id, record);
    } catch (const std::exception& e) {
        failed = std::string("writing the history: ") + e.what();
    }
    try {
        transact(change);
    } catch (const std::exception& e) {
        failed += (failed.empty() ? "" : "; ") + std::string("writing the state: ") + e.what();
    }
    if (failed.empty()) return true;
    throw Error(ErrorKind::Io, failed,
                staged ? "free some space: the next deploy or stop of this environment finishes "
                         "the recording before its first step"
                       : "free some space: the next deploy or stop of this environment records "
                         "it as INTERRUPTED; the versions above are what runs");
}

// <dir>/running/<env-id>.json: the record of the deployment under way, followed by
// `reserve` spaces (JSON ignores them): blocks the final record can be written into when
// the disk is full.
void FileStore::put_running_record(const std::string& environment_id, const nlohmann::json& record,
                                   std::size_t reserve) {
    if (!path_safe_id(environment_id))
        throw Error(ErrorKind::Refused, "invalid environment id " + show_name(environment_id));
    ensure_own_directory(m_dir / "running");
    const fs::path path = m_dir / "running" / (environment_id + ".json");
    std::string text = record.dump();
    const std::size_t length = text.size();
    text.append(reserve, ' ');
    try {
        write_file_atomic(path, text);
    } catch (const std::exception&) {
        // No room for a new file: over the old one, in the blocks it holds.
        if (!overwrite_in_place(path, std::string_view(text).substr(0, length))) throw;
    }
}

std::optional<nlohmann::json> FileStore::running_record(const std::string& environment_id) {
    if (!path_safe_id(environment_id)) return std::nullopt;
    const auto text = read_file(m_dir / "running" / (environment_id + ".json"));
    if (!text) return std::nullopt;
    auto doc = nlohmann::json::parse(*text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return nlohmann::json::object();
    return doc;
}

void FileStore::clear_running_record(const std::string& environment_id) {
    if (!path_safe_id(environment_id)) return;
    std::error_code ec;
    fs::remove(m_dir / "running" / (environment_id + ".json"), ec);
    if (ec) throw_errno("cannot remove " + (m_dir / "running").string(), ec.value());
}

}  // namespace depctl
