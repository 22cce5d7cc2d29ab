#include "util/files.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <random>
#include <thread>
#include <utility>

#include "util/error.hpp"
#include "util/fd.hpp"

namespace depctl {
namespace fs = std::filesystem;

namespace {

void write_all(int fd, std::string_view bytes, const fs::path& path) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            util::throw_errno("cannot write " + path.string(), errno);
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

void fsync_directory(const fs::path& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) util::throw_errno("cannot open directory " + dir.string(), errno);
    if (::fsync(fd.get()) != 0) util::throw_errno("cannot fsync directory " + dir.string(), errno);
}

// Removes an uncommitted temp file when the write fails half-way.
class TempFile {
public:
    explicit TempFile(fs::path path) : m_path(std::move(path)) {}
    ~TempFile() {
        if (!m_committed) ::unlink(m_path.c_str());
    }
    void committed() { m_committed = true; }
    const fs::path& path() const { return m_path; }

private:
    fs::path m_path;
    bool m_committed = false;
};

// A writer killed between creating its temp file and the rename leaves the file behind
// (about one in ten SIGKILLed mutations, see docs/reliability.md). Removes those of
// processes that no longer exist; a live pid, even a reused one, keeps its file: better
// a leftover than a file removed under a writer.
void remove_stale_temp_files(const fs::path& dir, const std::string& prefix) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.rfind(prefix, 0) != 0) continue;
        const char* digits = name.c_str() + prefix.size();
        char* after = nullptr;
        const long pid = std::strtol(digits, &after, 10);
        if (pid <= 0 || after == digits || *after != '.') continue;
        if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
        ::unlink(it->path().c_str());
    }
}

}  // namespace

namespace {

[[noreturn]] void refuse_kind(const fs::path& path, const struct stat& info) {
    const char* what = S_ISFIFO(info.st_mode)                           ? "a FIFO"
                       : S_ISDIR(info.st_mode)                          ? "a directory"
                       : S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode) ? "a device"
                       : S_ISSOCK(info.st_mode)                         ? "a socket"
                                                                        : "not a regular file";
    throw util::Error("refusing " + path.string() + ": it is " + what,
                      "depctl reads and writes regular files only");
}

// open(2) with O_NOFOLLOW (unless links are followed) and O_NONBLOCK (a FIFO must not block
// the open), then a check that a regular file was opened. Returns -1 with errno ENOENT.
int open_checked(const fs::path& path, int flags, int mode, Links links) {
    const int follow = links == Links::refuse ? O_NOFOLLOW : 0;
    const int fd = ::open(path.c_str(), flags | follow | O_NONBLOCK | O_CLOEXEC, mode);
    if (fd < 0) {
        const int err = errno;
        if (err == ENOENT) return -1;
        if (err == ELOOP && links == Links::refuse) {
            throw util::Error("refusing " + path.string() + ": it is a symbolic link",
                              "depctl never follows a link in place of its own files; remove it");
        }
        if (err == ENXIO) {  // a FIFO opened for writing without a reader
            throw util::Error("refusing " + path.string() + ": it is a FIFO",
                              "depctl reads and writes regular files only");
        }
        util::throw_errno("cannot open " + path.string(), err);
    }
    UniqueFd guard(fd);
    struct stat info {};
    if (::fstat(fd, &info) != 0) util::throw_errno("cannot stat " + path.string(), errno);
    if (!S_ISREG(info.st_mode)) refuse_kind(path, info);
    if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)
        util::throw_errno("cannot use " + path.string(), errno);
    return guard.release();
}

}  // namespace

int open_regular(const fs::path& path, int flags, int mode) {
    const int fd = open_checked(path, flags, mode, Links::refuse);
    if (fd < 0) util::throw_errno("cannot open " + path.string(), ENOENT);
    return fd;
}

std::optional<std::string> read_file(const fs::path& path, std::size_t max_bytes, Links links) {
    UniqueFd fd(open_checked(path, O_RDONLY, 0, links));
    if (fd.get() < 0) return std::nullopt;
    std::string out;
    struct stat info {};
    if (::fstat(fd.get(), &info) == 0 && info.st_size > 0) {
        if (static_cast<std::uintmax_t>(info.st_size) > max_bytes) {
            throw util::Error("refusing " + path.string() + ": it is " +
                              std::to_string(info.st_size) + " bytes (at most " +
                              std::to_string(max_bytes) + ")");
        }
        out.reserve(static_cast<std::size_t>(info.st_size));
    }
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            util::throw_errno("cannot read " + path.string(), errno);
        }
        if (n == 0) break;
        if (out.size() + static_cast<std::size_t>(n) > max_bytes) {  // it grew while read
            throw util::Error("refusing " + path.string() + ": it is more than " +
                              std::to_string(max_bytes) + " bytes");
        }
        out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
}

void write_file_atomic(const fs::path& path, std::string_view bytes, int mode) {
    const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    static thread_local std::mt19937_64 random{std::random_device{}()};
    const std::string prefix = path.filename().string() + ".tmp.";
    remove_stale_temp_files(dir, prefix);
    TempFile temp(dir /
                  (prefix + std::to_string(::getpid()) + "." + std::to_string(random() % 1000000)));
    {
        UniqueFd fd(::open(temp.path().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
        if (fd.get() < 0) util::throw_errno("cannot create " + temp.path().string(), errno);
        write_all(fd.get(), bytes, temp.path());
        if (::fsync(fd.get()) != 0)
            util::throw_errno("cannot fsync " + temp.path().string(), errno);
        if (::close(fd.release()) != 0)
            util::throw_errno("cannot close " + temp.path().string(), errno);
    }
    if (::rename(temp.path().c_str(), path.c_str()) != 0)
        util::throw_errno("cannot rename over " + path.string(), errno);
    temp.committed();
    fsync_directory(dir);
}

void append_line_durable(const fs::path& path, std::string_view header, std::string_view line) {
    UniqueFd fd(open_regular(path, O_RDWR | O_CREAT | O_APPEND));
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) util::throw_errno("cannot stat " + path.string(), errno);
    std::string record;
    if (info.st_size == 0 && !header.empty()) {
        record.append(header).push_back('\n');
    }
    // A writer killed mid-record (a write past a page can stop short once SIGKILL is
    // pending) leaves a line without its end; start on a new line so that the torn record
    // stays alone and unreadable instead of swallowing this one.
    char last = '\n';
    if (info.st_size > 0 && ::pread(fd.get(), &last, 1, info.st_size - 1) == 1 && last != '\n') {
        record.push_back('\n');
    }
    record.append(line).push_back('\n');
    // One write of the whole record: O_APPEND keeps concurrent appenders from interleaving.
    write_all(fd.get(), record, path);
    if (::fsync(fd.get()) != 0) util::throw_errno("cannot fsync " + path.string(), errno);
    if (info.st_size == 0) fsync_directory(path.parent_path());
}

void ensure_directory(const fs::path& path, int mode) {
    if (fs::is_directory(path)) return;
    // Missing ancestors get the same mode: every directory depctl creates is private (as
    // the XDG base directory spec asks for a missing $XDG_CONFIG_HOME).
    if (!path.parent_path().empty() && path.parent_path() != path)
        ensure_directory(path.parent_path(), mode);
    if (::mkdir(path.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST) {
        util::throw_errno("cannot create directory " + path.string(), errno);
    }
}

void ensure_own_directory(const fs::path& path, int mode) {
    struct stat info {};
    if (::lstat(path.c_str(), &info) == 0) {
        if (S_ISLNK(info.st_mode)) {
            throw util::Error("refusing " + path.string() + ": it is a symbolic link",
                              "depctl never writes through a link in place of its own directories; "
                              "remove it");
        }
        if (!S_ISDIR(info.st_mode))
            throw util::Error("refusing " + path.string() + ": it is not a directory");
        return;
    }
    if (errno != ENOENT) util::throw_errno("cannot use " + path.string(), errno);
    ensure_directory(path, mode);
}

FileLock FileLock::try_acquire(const fs::path& path) {
    UniqueFd fd(open_regular(path, O_RDWR | O_CREAT));
    for (;;) {
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return FileLock(fd.release());
        if (errno == EINTR) continue;
        if (errno == EWOULDBLOCK) return FileLock();
        util::throw_errno("cannot lock " + path.string(), errno);
    }
}

FileLock FileLock::acquire(const fs::path& path, std::optional<std::chrono::milliseconds> timeout,
                           const CancelSignal* cancel) {
    using clock = std::chrono::steady_clock;
    const auto deadline = timeout ? clock::now() + *timeout : clock::time_point::max();
    // flock has no timed wait; back off from 1 ms to 50 ms until the deadline.
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
        FileLock lock = try_acquire(path);
        if (lock.locked()) return lock;
        const auto now = clock::now();
        if (now >= deadline) return FileLock();
        if (cancel && cancel->level() != CancelLevel::none) return FileLock();
        const auto nap = std::min<clock::duration>(pause, deadline - now);
        if (cancel) {  // Ctrl-C ends the nap at once
            pollfd fd{cancel->fd(), POLLIN, 0};
            ::poll(&fd, 1,
                   static_cast<int>(
                       std::chrono::duration_cast<std::chrono::milliseconds>(nap).count()) +
                       1);
        } else {
            std::this_thread::sleep_for(nap);
        }
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

FileLock::FileLock(FileLock&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
    if (this != &other) {
        release();
        m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
}

FileLock::~FileLock() {
    release();
}

void FileLock::write_note(std::string_view text) {
    if (m_fd < 0) return;
    if (::ftruncate(m_fd, 0) != 0) return;  // advisory content; the lock itself is what counts
    ssize_t ignored = ::pwrite(m_fd, text.data(), text.size(), 0);
    (void)ignored;
}

void FileLock::release() {
    if (m_fd >= 0) {
        ::close(m_fd);  // closing the last descriptor drops the flock
        m_fd = -1;
    }
}

}  // namespace depctl
