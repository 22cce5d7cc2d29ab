// Files that never tear and locks that the kernel frees: the primitives of FileStore.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "util/cancel.hpp"
#include "util/error.hpp"

namespace depctl {

// How a file may be reached: depctl's own files (state, lock, history, logs) never through a
// symbolic link; a file the user names (a secret file) may be.
enum class Links { refuse, follow };

// The largest file read_file reads unless told otherwise: far above any real state.
inline constexpr std::size_t k_max_read_bytes = std::size_t(1) << 30;

// Reads a whole regular file of at most `max_bytes`; nullopt when it does not exist. A
// symbolic link (Links::refuse), a FIFO, a device, a directory or a bigger file is refused
// with util::Error without reading (or waiting on) it; so are other errors.
std::optional<std::string> read_file(const std::filesystem::path& path,
                                     std::size_t max_bytes = k_max_read_bytes,
                                     Links links = Links::refuse);

// Opens (creating with `mode` when flags hold O_CREAT) a regular file, never through a
// symbolic link and never blocking on a FIFO; throws util::Error saying why not.
int open_regular(const std::filesystem::path& path, int flags, int mode = 0600);

// Replaces `path` with `bytes` atomically: temp file in the same directory, write, fsync,
// rename, fsync the directory. A crash at any instant leaves the old or the new file.
// Temp files that killed writers of the same file left behind are removed first.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes, int mode = 0600);

// Appends one record (a line) and fsyncs it, creating the file with `header` first.
void append_line_durable(const std::filesystem::path& path, std::string_view header,
                         std::string_view line);

// Creates a directory (and parents) with the given mode if missing.
void ensure_directory(const std::filesystem::path& path, int mode = 0700);

// ensure_directory for a directory of depctl's own (.depctl/history, logs, locks): a
// symbolic link or a non-directory in its place is refused, so nothing is written outside.
void ensure_own_directory(const std::filesystem::path& path, int mode = 0700);

// An exclusive flock on a file, released by the destructor or by the kernel on death.
class FileLock {
public:
    // Waits up to `timeout` (nullopt: forever); returns an unlocked object when it timed out.
    // A raised `cancel` ends the wait too (an unlocked object; the caller checks it).
    static FileLock acquire(const std::filesystem::path& path,
                            std::optional<std::chrono::milliseconds> timeout,
                            const CancelSignal* cancel = nullptr);
    static FileLock try_acquire(const std::filesystem::path& path);

    FileLock() = default;
    FileLock(FileLock&& other) noexcept;
    FileLock& operator=(FileLock&& other) noexcept;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    ~FileLock();

    bool locked() const { return m_fd >= 0; }
    int fd() const { return m_fd; }
    // Replaces the lock file's content (who holds it); the content is advisory.
    void write_note(std::string_view text);
    void release();

private:
    explicit FileLock(int fd) : m_fd(fd) {}
    int m_fd = -1;
};

}  // namespace depctl
