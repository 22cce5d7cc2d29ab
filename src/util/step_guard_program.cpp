// Which program the steps' guard is (util/step_guard.cpp). Every step pays one exec of it,
// so it is a small static program of its own, depctl-step-guard, installed beside depctl-ui
// (docs/decisions.md, "The step guard is a program of its own"); a depctl binary copied
// alone somewhere is still its own guard, through /proc/self/exe.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "util/step_guard.hpp"

namespace depctl {
namespace {

// Above the descriptors a step's spawn rearranges (0-2, and 3 for the steps lock).
constexpr int k_lowest_fd = 10;

// An O_PATH descriptor of an executable regular file, numbered k_lowest_fd or above; -1
// when there is none at `path`.
int open_program(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st {};
    const bool runnable =
        ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
    const int high = runnable ? ::fcntl(fd, F_DUPFD_CLOEXEC, k_lowest_fd) : -1;
    ::close(fd);
    return high;
}

}  // namespace

std::string step_guard_program() {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return "/proc/self/exe";
    const auto dir = self.parent_path();
    // Beside depctl (the build tree), or in lib/depctl/ as installed (like depctl-ui).
    for (const auto& candidate : {dir / k_step_guard_program,
                                  dir.parent_path() / "lib" / "depctl" / k_step_guard_program}) {
        // Held open for the process's life and spawned through /proc/self/fd: a package
        // upgrade that replaces the file while a deployment runs cannot mix two versions.
        const int fd = open_program(candidate);
        if (fd >= 0) return "/proc/self/fd/" + std::to_string(fd);
    }
    return "/proc/self/exe";
}

}  // namespace depctl
