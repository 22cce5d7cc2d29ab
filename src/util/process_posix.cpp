// One command, one process group, one poll() loop. Modelled on ninja's subprocess-posix.cc,
// with a pidfd instead of SIGCHLD so that many threads can each wait for their own child
// without any process-wide signal handling.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string_view>
#include <system_error>

#include "util/command_words.hpp"
#include "util/error.hpp"
#include "util/process.hpp"

extern char** environ;

namespace depctl {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t k_chunk_size = 64 * 1024;
// A background grandchild (`server &`) may hold the pipe open forever; after the direct
// child exits we only wait this long for EOF.
constexpr milliseconds k_drain_window{100};
// 16 chunks of 64 KiB cover the largest default pipe buffer (1 MiB, pipe-max-size).
constexpr int k_late_chunk_limit = 16;
constexpr int k_spawn_failed_code = 127;
constexpr int k_canceled_before_start_code = 130;

std::atomic<bool> g_step_guard{false};
std::string g_step_guard_path;  // set by enable_step_guard(), before any step runs

class UniqueFd {
public:
    explicit UniqueFd(int fd = -1) : m_fd(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    int get() const { return m_fd; }
    explicit operator bool() const { return m_fd >= 0; }
    void reset() {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = -1;
    }

private:
    int m_fd;
};

// Owns a spawned child until it is reaped. If we unwind early (a throwing sink, a failed
// pidfd_open) the whole group is killed so no process outlives the call unsupervised.
class Child {
public:
    explicit Child(pid_t pid) : m_pid(pid) {}
    ~Child() {
        if (m_reaped) return;
        ::kill(-m_pid, SIGKILL);
        reap();
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return m_pid; }
    // Signals the group. Only valid before reap(): while the leader is unreaped its pid
    // cannot be reused, so -pid cannot name somebody else's group.
    void signal_group(int sig) const { ::kill(-m_pid, sig); }
    int reap() {
        int status = 0;
        while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
        }
        m_reaped = true;
        return status;
    }

private:
    pid_t m_pid;
    bool m_reaped = false;
};

class SpawnSetup {
public:
    SpawnSetup() {
        ::posix_spawnattr_init(&m_attr);
        ::posix_spawn_file_actions_init(&m_actions);
    }
    ~SpawnSetup() {
        ::posix_spawn_file_actions_destroy(&m_actions);
        ::posix_spawnattr_destroy(&m_attr);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;

    posix_spawnattr_t m_attr;
    posix_spawn_file_actions_t m_actions;
};

std::string describe(milliseconds d) {
    const long long n = d.count();
    if (n % 1000 == 0) return std::to_string(n / 1000) + "s";
    if (n < 1000) return std::to_string(n) + "ms";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(n) / 1000.0);
    return buf;
}

int exit_code_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

// Builds "KEY=VALUE" strings: the parent's environ with spec.env applied on top.
std::vector<std::string> build_environment(const ProcessSpec& spec) {
    std::vector<std::pair<std::string, std::string>> overrides;
    auto set = [&](const std::string& key, const std::string& value) {
        for (auto& kv : overrides)
            if (kv.first == key) {
                kv.second = value;
                return;
            }
        overrides.emplace_back(key, value);
    };
    if (!spec.workdir.empty()) {
        // Shells trust PWD only if it names ".", so this keeps `pwd` logical after chdir.
        std::string pwd = std::filesystem::absolute(spec.workdir).lexically_normal().string();
        if (pwd.size() > 1 && pwd.back() == '/') pwd.pop_back();
        set("PWD", pwd);
    }
    for (const auto& [key, value] : spec.env) set(key, value);

    std::vector<std::string> out;
    for (char** e = environ; e && *e; ++e) {
        std::string_view entry(*e);
        const std::string_view key = entry.substr(0, entry.find('='));
        const bool overridden = std::any_of(overrides.begin(), overrides.end(),
                                            [&](const auto& kv) { return kv.first == key; });
        const bool removed =
            std::find(spec.unset.begin(), spec.unset.end(), key) != spec.unset.end();
        if (!overridden && !removed) out.emplace_back(entry);
    }
    for (const auto& [key, value] : overrides) out.push_back(key + "=" + value);
    return out;
}

// Returns "" on success, otherwise why the workdir is unusable.
std::string check_workdir(const std::filesystem::path& dir) {
    std::error_code ec;
    const auto st = std::filesystem::status(dir, ec);
    if (!std::filesystem::exists(st)) return "workdir " + dir.string() + " does not exist";
    if (!std::filesystem::is_directory(st))
        return "workdir " + dir.string() + " is not a directory";
    return {};
}

// Spawns a command writing to out_fd: directly when it is plain words whose program is found
// (util/command_words.hpp), else /bin/sh -c command, and also when the direct exec fails
// (a script without #!, a permission): the shell's handling and messages are the reference.
// Returns the pid, or -1 with *error set.
pid_t spawn_command(const ProcessSpec& spec, int out_fd, std::string* error, bool* direct) {
    *direct = false;
    SpawnSetup setup;
    sigset_t empty;
    sigemptyset(&empty);
    // Threads of depctl block the termination signals; children must not inherit that,
    // nor any ignored disposition, or SIGTERM on cancel would do nothing.
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2})
        sigaddset(&defaults, sig);
    ::posix_spawnattr_setsigmask(&setup.m_attr, &empty);
    ::posix_spawnattr_setsigdefault(&setup.m_attr, &defaults);
    // A group of its own: a terminal Ctrl-C reaches depctl first, and we can signal the
    // command together with everything it started.
    ::posix_spawnattr_setpgroup(&setup.m_attr, 0);
    ::posix_spawnattr_setflags(
        &setup.m_attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    // dup2s before the open of fd 0, so this also works if out_fd happens to be 0..2.
    ::posix_spawn_file_actions_adddup2(&setup.m_actions, out_fd, STDOUT_FILENO);
    ::posix_spawn_file_actions_adddup2(&setup.m_actions, out_fd, STDERR_FILENO);
    ::posix_spawn_file_actions_addopen(&setup.m_actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (!spec.workdir.empty())
        ::posix_spawn_file_actions_addchdir_np(&setup.m_actions, spec.workdir.c_str());

    std::vector<std::string> env_strings = build_environment(spec);
    auto envp_of = [](std::vector<std::string>& strings) {
        std::vector<char*> envp;
        envp.reserve(strings.size() + 1);
        for (auto& s : strings) envp.push_back(s.data());
        envp.push_back(nullptr);
        return envp;
    };

    pid_t pid = -1;
    // Under the guard (util/step_guard.cpp), which runs the command itself.
    if (spec.guarded && g_step_guard) {
        if (spec.held_fd >= 0)
            ::posix_spawn_file_actions_adddup2(&setup.m_actions, spec.held_fd, 3);
        std::vector<char*> envp = envp_of(env_strings);
        std::string guard = k_step_guard_program, guard_arg = k_step_guard_argument,
                    command = spec.command;
        std::string parent = std::to_string(::getpid()), grace = std::to_string(spec.grace.count());
        std::string mode = spec.via_shell ? "shell" : "auto";
        char* argv[] = {guard.data(), guard_arg.data(), parent.data(), grace.data(),
                        mode.data(),  command.data(),   nullptr};
        const int rc = ::posix_spawn(&pid, g_step_guard_path.c_str(), &setup.m_actions,
                                     &setup.m_attr, argv, envp.data());
        if (rc == 0) return pid;
        *error = "cannot start the step guard: " + std::generic_category().message(rc);
        return -1;
    }
    if (auto words = spec.via_shell ? std::nullopt : plain_command_words(spec.command)) {
        const auto path = env_lookup(env_strings, "PATH");
        if (auto program = path ? find_program(words->front(), *path) : std::nullopt) {
            std::vector<std::string> direct_env = env_strings;
            if (spec.workdir.empty()) set_pwd_as_the_shell_would(direct_env);
            std::vector<char*> envp = envp_of(direct_env);
            std::vector<char*> argv;
            for (auto& w : *words) argv.push_back(w.data());
            argv.push_back(nullptr);
            if (::posix_spawn(&pid, program->c_str(), &setup.m_actions, &setup.m_attr, argv.data(),
                              envp.data()) == 0) {
                *direct = true;
                return pid;
            }
        }
    }

    std::vector<char*> envp = envp_of(env_strings);
    std::string sh = "/bin/sh", dash_c = "-c", command = spec.command;
    char* argv[] = {sh.data(), dash_c.data(), command.data(), nullptr};
    const int rc =
        ::posix_spawn(&pid, "/bin/sh", &setup.m_actions, &setup.m_attr, argv, envp.data());
    if (rc != 0) {
        *error = "cannot start /bin/sh";
        if (!spec.workdir.empty()) *error += " in " + spec.workdir.string();
        *error += ": " + std::generic_category().message(rc);
        return -1;
    }
    return pid;
}

int poll_timeout(Clock::time_point deadline) {
    if (deadline == Clock::time_point::max()) return -1;
    const auto now = Clock::now();
    if (deadline <= now) return 0;
    // Round up so we never wake just before the deadline and spin.
    const auto ms = std::chrono::ceil<milliseconds>(deadline - now).count();
    return static_cast<int>(std::min<long long>(ms, INT_MAX));
}

// Reads one chunk into the sink. Returns false when the pipe is finished (EOF or error).
bool read_chunk(int fd, std::vector<char>& buf, const OutputSink& sink) {
    for (;;) {
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n > 0) {
            if (sink) sink(std::string_view(buf.data(), static_cast<std::size_t>(n)));
            return true;
        }
        if (n == 0) return false;
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK;
    }
}

int poll_retry(pollfd* fds, nfds_t n, int timeout_ms) {
    int rc;
    while ((rc = ::poll(fds, n, timeout_ms)) < 0 && errno == EINTR) {
    }
    return rc;
}

enum class StopReason { none, timeout, cancel };

}  // namespace

void enable_step_guard() {
    g_step_guard_path = step_guard_program();
    g_step_guard = true;
}
bool step_guard_enabled() {
    return g_step_guard;
}

ProcessResult run_process(const ProcessSpec& spec, const OutputSink& sink,
                          const CancelSignal* cancel) {
    const auto start = Clock::now();
    auto result = [&](ProcessEnd end, int code, std::string error) {
        return ProcessResult{end, code, std::move(error),
                             std::chrono::duration_cast<milliseconds>(Clock::now() - start)};
    };

    if (cancel && cancel->level() != CancelLevel::none)
        return result(ProcessEnd::canceled, k_canceled_before_start_code, "canceled before start");
    if (!spec.workdir.empty()) {
        std::string why = check_workdir(spec.workdir);
        if (!why.empty()) return result(ProcessEnd::spawn_failed, k_spawn_failed_code, why);
    }

    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) < 0) util::throw_errno("pipe2", errno);
    UniqueFd read_end(pipe_fds[0]);
    UniqueFd write_end(pipe_fds[1]);
    if (::fcntl(read_end.get(), F_SETFL, O_NONBLOCK) < 0)
        util::throw_errno("fcntl(O_NONBLOCK)", errno);

    std::string spawn_error;
    bool direct = false;
    const pid_t pid = spawn_command(spec, write_end.get(), &spawn_error, &direct);
    if (pid < 0) return result(ProcessEnd::spawn_failed, k_spawn_failed_code, spawn_error);
    Child child(pid);
    // Our copy of the write end must go, or EOF would never arrive.
    write_end.reset();

    // Through syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C" and cannot link from C++.
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd) util::throw_errno("pidfd_open", errno);

    const auto never = Clock::time_point::max();
    const auto timeout_at = spec.timeout.count() > 0 ? start + spec.timeout : never;
    auto kill_at = never;
    bool term_sent = false;
    bool kill_sent = false;
    StopReason reason = StopReason::none;
    CancelLevel handled = CancelLevel::none;
    std::vector<char> buf(k_chunk_size);

    auto terminate = [&](StopReason why) {
        if (reason == StopReason::none) reason = why;
        if (term_sent || kill_sent) return;
        child.signal_group(SIGTERM);
        term_sent = true;
        kill_at = Clock::now() + spec.grace;
    };
    auto kill_now = [&](StopReason why) {
        if (reason == StopReason::none) reason = why;
        if (kill_sent) return;
        child.signal_group(SIGKILL);
        kill_sent = true;
    };

    bool exited = false;
    while (!exited) {
        if (cancel && cancel->level() > handled) {
            handled = cancel->level();
            if (handled == CancelLevel::immediate)
                kill_now(StopReason::cancel);
            else
                terminate(StopReason::cancel);
        }
        const auto now = Clock::now();
        if (!term_sent && !kill_sent && now >= timeout_at) terminate(StopReason::timeout);
        if (term_sent && !kill_sent && now >= kill_at) kill_now(reason);

        pollfd fds[3];
        nfds_t n = 0;
        fds[n++] = {pidfd.get(), POLLIN, 0};
        const int pipe_slot = read_end ? static_cast<int>(n) : -1;
        if (read_end) fds[n++] = {read_end.get(), POLLIN, 0};
        // Both cancel fds stay readable once set, so poll only the one we have not acted on.
        if (cancel && handled == CancelLevel::none) fds[n++] = {cancel->fd(), POLLIN, 0};
        if (cancel && handled == CancelLevel::graceful)
            fds[n++] = {cancel->immediate_fd(), POLLIN, 0};

        const auto deadline = kill_sent ? never : term_sent ? kill_at : timeout_at;
        if (poll_retry(fds, n, poll_timeout(deadline)) < 0) util::throw_errno("poll", errno);

        if (pipe_slot >= 0 && fds[pipe_slot].revents != 0 && !read_chunk(read_end.get(), buf, sink))
            read_end.reset();
        if (fds[0].revents != 0) exited = true;
    }

    // Grandchildren of a stopped command must not survive it; signal before reaping so
    // the group id cannot have been recycled.
    if (reason != StopReason::none) child.signal_group(SIGKILL);
    const int status = child.reap();

    // Whatever the child wrote is already in the pipe; a bounded wait for EOF collects it
    // without hanging on a background process that inherited the write end.
    const auto drain_until = Clock::now() + k_drain_window;
    int late_chunks = 0;
    while (read_end) {
        pollfd pfd{read_end.get(), POLLIN, 0};
        if (poll_retry(&pfd, 1, poll_timeout(drain_until)) < 0) util::throw_errno("poll", errno);
        if (pfd.revents == 0) break;  // window over
        if (!read_chunk(read_end.get(), buf, sink)) break;
        // Past the window keep only what is already buffered (a slow sink must not lose
        // the child's last output), but stop a grandchild that keeps on writing.
        if (Clock::now() >= drain_until && ++late_chunks > k_late_chunk_limit) break;
    }
    read_end.reset();

    const int code = exit_code_of(status);
    switch (reason) {
        case StopReason::timeout: {
            std::string text = "timed out after " + describe(spec.timeout);
            if (kill_sent && term_sent) text += ", killed after " + describe(spec.grace) + " grace";
            return result(ProcessEnd::timed_out, code, text);
        }
        case StopReason::cancel: {
            std::string text = "canceled";
            if (handled == CancelLevel::immediate)
                text += ", killed at once";
            else if (kill_sent)
                text += ", killed after " + describe(spec.grace) + " grace";
            return result(ProcessEnd::canceled, code, text);
        }
        case StopReason::none:
            break;
    }
    if (direct && WIFSIGNALED(status)) {
        // Through `sh -c`, dash waits for the command, reports a death by signal on stderr
        // ("Terminated"; nothing for SIGINT and SIGPIPE) and exits 128+n; so does this path.
        const std::string line = shell_signal_report(status);
        if (!line.empty() && sink) sink(line);
        return result(ProcessEnd::exited, code, {});
    }
    return result(WIFSIGNALED(status) ? ProcessEnd::signaled : ProcessEnd::exited, code, {});
}

}  // namespace depctl
