// depctl's side of the steps' guard (util/step_guard.hpp): starting the guard process and
// handing it steps.
#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <system_error>

#include "util/step_guard.hpp"
#include "util/step_guard_protocol.hpp"

namespace depctl {

namespace {

std::atomic<bool> g_step_guard{false};
std::string g_step_guard_path;  // set by enable_step_guard(), before any step runs

// The guard's ends of its descriptors, at fixed numbers in the guard process.
constexpr int k_guard_held_fd = 3;
constexpr int k_guard_control_fd = 4;

std::string errno_text(const char* what, int err) {
    return std::string(what) + ": " + std::generic_category().message(err);
}

// Sends one control message, with descriptors when fds is not empty.
bool send_control(int control, char kind, const std::vector<int>& fds) {
    char byte = kind;
    iovec iov{&byte, 1};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char space[CMSG_SPACE(sizeof(int) * 2)] = {};
    if (!fds.empty()) {
        msg.msg_control = space;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    ssize_t n;
    while ((n = ::sendmsg(control, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    return n == 1;
}

bool write_all(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

void enable_step_guard() {
    enable_step_guard(step_guard_program());
}

void enable_step_guard(const std::string& program) {
    g_step_guard_path = program;
    g_step_guard = true;
}

bool step_guard_enabled() {
    return g_step_guard;
}

bool StepGuard::launch(std::string* error) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
        *error = errno_text("cannot start the step guard: socketpair", errno);
        return false;
    }
    UniqueFd mine(pair[0]), theirs(pair[1]);
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    ::posix_spawnattr_init(&attr);
    ::posix_spawn_file_actions_init(&actions);
    // A group of its own (a terminal's Ctrl-C is for depctl to handle), default signals.
    sigset_t empty, defaults;
    sigemptyset(&empty);
    sigemptyset(&defaults);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD}) sigaddset(&defaults, sig);
    ::posix_spawnattr_setsigmask(&attr, &empty);
    ::posix_spawnattr_setsigdefault(&attr, &defaults);
    ::posix_spawnattr_setpgroup(&attr, 0);
    ::posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    // Nothing of depctl's output: a test harness reading it must not wait for the guard.
    for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO})
        ::posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0);
    // Both sources are above 10 (dup'd so), so the dup2s cannot overwrite each other.
    UniqueFd held(m_held_fd >= 0 ? ::fcntl(m_held_fd, F_DUPFD_CLOEXEC, 10) : -1);
    UniqueFd control(::fcntl(theirs.get(), F_DUPFD_CLOEXEC, 10));
    if (held) ::posix_spawn_file_actions_adddup2(&actions, held.get(), k_guard_held_fd);
    ::posix_spawn_file_actions_adddup2(&actions, control.get(), k_guard_control_fd);
    std::string program = k_step_guard_program, argument = k_step_guard_argument,
                control_arg = std::to_string(k_guard_control_fd),
                held_arg = held ? std::to_string(k_guard_held_fd) : "-";
    char* argv[] = {program.data(), argument.data(), control_arg.data(), held_arg.data(), nullptr};
    // No environment: each step's comes with its request (and holds no secret source).
    char* no_env[] = {nullptr};
    pid_t pid = -1;
    const int rc =
        control ? ::posix_spawn(&pid, g_step_guard_path.c_str(), &actions, &attr, argv, no_env)
                : errno;
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        *error = errno_text("cannot start the step guard", rc);
        return false;
    }
    m_pid = pid;
    m_control = std::move(mine);
    return true;
}

void StepGuard::start_early() {
    if (!step_guard_enabled()) return;
    std::lock_guard lock(m_mutex);
    std::string ignored;
    if (m_pid < 0) launch(&ignored);
}

UniqueFd StepGuard::start(const ProcessSpec& spec, const std::vector<std::string>& env, int out_fd,
                          std::string* error) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
        *error = errno_text("cannot start the step: socketpair", errno);
        return UniqueFd();
    }
    UniqueFd channel(pair[0]), theirs(pair[1]);
    {
        std::lock_guard lock(m_mutex);
        if (m_pid < 0 && !launch(error)) return UniqueFd();
        if (!send_control(m_control.get(), guard_protocol::k_run, {out_fd, theirs.get()})) {
            *error = errno_text("cannot hand the step to its guard", errno);
            return UniqueFd();
        }
    }
    theirs.reset();
    guard_protocol::Request request{spec.grace.count(), spec.via_shell, spec.workdir.string(),
                                    spec.command, env};
    if (!write_all(channel.get(), guard_protocol::encode(request))) {
        *error = errno_text("cannot hand the step to its guard", errno);
        return UniqueFd();
    }
    return channel;
}

StepGuard::~StepGuard() {
    if (m_pid < 0) return;
    send_control(m_control.get(), guard_protocol::k_quit, {});
    m_control.reset();
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
}

}  // namespace depctl
