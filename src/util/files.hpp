// Files that never tear and locks that the kernel frees: the primitives of FileStore.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace depctl {

// Reads a whole file; nullopt when it does not exist. Other errors throw Error{Store}.
std::optional<std::string> read_file(const std::filesystem::path& path);

// Replaces `path` with `bytes` atomically: temp file in the same directory, write, fsync,
// rename, fsync the directory. A crash at any instant leaves the old or the new file.
// Temp files that killed writers of the same file left behind are removed first.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes, int mode = 0600);

// Appends one record (a line) and fsyncs it, creating the file with `header` first.
void append_line_durable(const std::filesystem::path& path, std::string_view header,
                         std::string_view line);

// Creates a directory (and parents) with the given mode if missing.
void ensure_directory(const std::filesystem::path& path, int mode = 0700);

// An exclusive flock on a file, released by the destructor or by the kernel on death.
class FileLock {
public:
    // Waits up to `timeout` (nullopt: forever); returns an unlocked object when it timed out.
    static FileLock acquire(const std::filesystem::path& path,
                            std::optional<std::chrono::milliseconds> timeout);
    static FileLock try_acquire(const std::filesystem::path& path);

    FileLock() = default;
    FileLock(FileLock&& other) noexcept;
    FileLock& operator=(FileLock&& other) noexcept;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    ~FileLock();

    bool locked() const { return m_fd >= 0; }
    // Replaces the lock file's content (who holds it); the content is advisory.
    void write_note(std::string_view text);
    void release();

private:
    explicit FileLock(int fd) : m_fd(fd) {}
    int m_fd = -1;
};

}  // namespace depctl
