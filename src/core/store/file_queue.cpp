#include "core/store/file_queue.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "depctl/error.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

namespace depctl {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t k_number_digits = 20;
constexpr const char* k_marker = ".superseded";
constexpr const char* k_temp_prefix = "tmp-";

bool ends_with(const std::string& text, const std::string& tail) {
    return text.size() >= tail.size() &&
           text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

// <20 digits>-<pid>.wait or <20 digits>-<pid>.newest
bool is_ticket(const std::string& name) {
    const std::size_t dash = k_number_digits;
    if (name.size() < dash + 3 || name[dash] != '-') return false;
    if (!std::all_of(name.begin(), name.begin() + dash,
                     [](char c) { return c >= '0' && c <= '9'; }))
        return false;
    const std::size_t dot = name.find('.', dash + 1);
    if (dot == std::string::npos || dot == dash + 1) return false;
    if (!std::all_of(name.begin() + dash + 1, name.begin() + dot,
                     [](char c) { return c >= '0' && c <= '9'; }))
        return false;
    const std::string mode = name.substr(dot);
    return mode == ".wait" || mode == ".newest";
}

long long ticket_number(const std::string& name) {
    return std::strtoll(name.substr(0, k_number_digits).c_str(), nullptr, 10);
}

// A ticket opened to test its flock; -1 when it is gone. A link or a non-file is refused.
int open_ticket(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return -1;
        if (errno == ELOOP)
            throw util::Error("refusing " + path.string() + ": it is a symbolic link",
                              "depctl never follows a link in place of its own files; remove it");
        util::throw_errno("cannot open " + path.string(), errno);
    }
    struct stat info {};
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        ::close(fd);
        throw util::Error("refusing " + path.string() + ": it is not a regular file");
    }
    return fd;
}

void remove_ticket(const fs::path& path) {
    ::unlink(path.c_str());
    ::unlink((path.string() + k_marker).c_str());
}

// Whether the ticket's waiter is alive (holds its flock). A dead waiter's ticket is removed.
bool live(const fs::path& path) {
    const int fd = open_ticket(path);
    if (fd < 0) return false;
    const bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    if (free) remove_ticket(path);  // before the close: nobody can take it in between
    ::close(fd);
    return !free;
}

struct Entry {
    std::string name;
    bool superseded = false;
};

std::vector<std::string> ticket_names(const fs::path& dir, std::set<std::string>* marked) {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (is_ticket(name)) {
            names.push_back(name);
        } else if (marked && ends_with(name, k_marker)) {
            marked->insert(name.substr(0, name.size() - std::string(k_marker).size()));
        }
    }
    if (ec && ec != std::errc::no_such_file_or_directory)
        util::throw_errno("cannot read " + dir.string(), ec.value());
    std::sort(names.begin(), names.end());
    return names;
}

// The live tickets, oldest first. Removes dead waiters' tickets and notes left on tickets
// that are gone.
std::vector<Entry> scan(const fs::path& dir) {
    std::set<std::string> marked;
    const std::vector<std::string> names = ticket_names(dir, &marked);
    for (const std::string& base : marked) {
        if (!std::binary_search(names.begin(), names.end(), base))
            ::unlink((dir / (base + k_marker)).c_str());
    }
    std::vector<Entry> entries;
    for (const std::string& name : names) {
        if (live(dir / name)) entries.push_back({name, marked.count(name) > 0});
    }
    return entries;
}

// Only a ticket taker holds the counter: a temp ticket found then was left by a dead one.
void remove_temp_tickets(const fs::path& dir) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().filename().string().rfind(k_temp_prefix, 0) == 0)
            ::unlink(it->path().c_str());
    }
}

// The next ticket number: one more than the counter and than any ticket there (a counter
// that a crash left empty must not put a newcomer ahead of older waiters).
long long next_number(const fs::path& dir, FileLock& counter) {
    char text[32] = {};
    const ssize_t n = ::pread(counter.fd(), text, sizeof text - 1, 0);
    long long last = n > 0 ? std::strtoll(text, nullptr, 10) : 0;
    for (const std::string& name : ticket_names(dir, nullptr))
        last = std::max(last, ticket_number(name));
    counter.write_note(std::to_string(last + 1));
    return last + 1;
}

// A new ticket file, flock'ed, with the waiter's note; under its final name only once locked.
int create_ticket(const fs::path& dir, const fs::path& path, const nlohmann::json& note) {
    const fs::path temp = dir / (k_temp_prefix + std::to_string(::getpid()));
    const int fd = ::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) util::throw_errno("cannot create " + temp.string(), errno);
    const std::string text = note.dump();
    const bool ok =
        ::flock(fd, LOCK_EX | LOCK_NB) == 0 &&
        ::pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()) &&
        ::rename(temp.c_str(), path.c_str()) == 0;
    if (!ok) {
        const int err = errno;
        ::unlink(temp.c_str());
        ::close(fd);
        util::throw_errno("cannot queue in " + dir.string(), err);
    }
    return fd;
}

}  // namespace

FileQueueTicket FileQueueTicket::join(const fs::path& queue_dir, const LockHolder& me, bool newest,
                                      std::chrono::milliseconds counter_timeout) {
    ensure_own_directory(queue_dir);
    FileLock counter = FileLock::acquire(queue_dir / "counter", counter_timeout);
    if (!counter.locked()) {
        throw Error(ErrorKind::Busy,
                    "the queue of the environment's lock is held by another depctl process "
                    "(waited " +
                        std::to_string(counter_timeout.count()) + " ms)",
                    "try again, or raise --lock-timeout");
    }
    remove_temp_tickets(queue_dir);
    char number[k_number_digits + 1];
    std::snprintf(number, sizeof number, "%020lld", next_number(queue_dir, counter));
    const std::string name =
        std::string(number) + "-" + std::to_string(::getpid()) + (newest ? ".newest" : ".wait");
    nlohmann::json note = me.to_json();
    note["wait"] = newest ? "newest" : "yes";
    const fs::path path = queue_dir / name;
    FileQueueTicket ticket(queue_dir, path, create_ticket(queue_dir, path, note));
    if (newest) {
        const std::string replacer = me.to_json().dump();
        for (const Entry& older : scan(queue_dir)) {
            if (older.name >= name || older.superseded || !ends_with(older.name, ".newest"))
                continue;
            write_file_atomic(queue_dir / (older.name + k_marker), replacer);
        }
    }
    return ticket;
}

FileQueueTicket::FileQueueTicket(FileQueueTicket&& other) noexcept
    : m_dir(std::move(other.m_dir)),
      m_path(std::move(other.m_path)),
      m_fd(std::exchange(other.m_fd, -1)) {}

FileQueueTicket::~FileQueueTicket() {
    if (m_fd < 0) return;
    remove_ticket(m_path);  // before the close: a live ticket is never taken for a dead one
    ::close(m_fd);
}

std::size_t FileQueueTicket::ahead() const {
    const std::string mine = m_path.filename().string();
    std::size_t count = 0;
    for (const Entry& entry : scan(m_dir)) count += entry.name < mine && !entry.superseded;
    return count;
}

std::optional<LockHolder> FileQueueTicket::superseded_by() const {
    const auto text = read_file(m_path.string() + k_marker);
    if (!text) return std::nullopt;
    const auto doc = nlohmann::json::parse(*text, nullptr, false);
    return doc.is_object() ? LockHolder::from_json(doc) : LockHolder{};
}

std::size_t queued_waiters(const fs::path& queue_dir) {
    std::size_t count = 0;
    for (const Entry& entry : scan(queue_dir)) count += !entry.superseded;
    return count;
}

}  // namespace depctl
