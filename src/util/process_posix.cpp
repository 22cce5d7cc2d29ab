// One command, one process group, one poll() loop. Modelled on ninja's subprocess-posix.cc,
// with a pidfd instead of SIGCHLD so that many threads can each wait for their own child
// without any process-wide signal handling.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
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
#include "util/fd.hpp"
#include "util/process.hpp"
#include "util/process_child.hpp"
#include "util/process_spawn.hpp"
#include "util/step_guard.hpp"
#include "util/step_guard_protocol.hpp"

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

// Returns "" on success, otherwise why the workdir is unusable.
std::string check_workdir(const std::filesystem::path& dir) {
    std::error_code ec;
    const auto st = std::filesystem::status(dir, ec);
    if (!std::filesystem::exists(st)) return "workdir " + dir.string() + " does not exist";
    if (!std::filesystem::is_directory(st))
        return "workdir " + dir.string() + " is not a directory";
    return {};
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

// One running child while run_process watches it: when to signal the group next, what was
// sent already, and why it is being stopped (the first reason wins).
struct Watch {
    const ProcessSpec& spec;
    const CancelSignal* cancel;
    RunningChild& child;
    Clock::time_point timeout_at;
    Clock::time_point kill_at = Clock::time_point::max();
    bool term_sent = false;
    bool kill_sent = false;
    StopReason reason = StopReason::none;
    CancelLevel handled = CancelLevel::none;

    void terminate(StopReason why) {
        if (reason == StopReason::none) reason = why;
        if (term_sent || kill_sent) return;
        child.signal_group(SIGTERM);
        term_sent = true;
        kill_at = Clock::now() + spec.grace;
    }
    void kill_now(StopReason why) {
        if (reason == StopReason::none) reason = why;
        if (kill_sent) return;
        child.signal_group(SIGKILL);
        kill_sent = true;
    }
    // A new cancel level, a timeout or the end of the grace period each signal the group.
    void act() {
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
    }
    Clock::time_point next_deadline() const {
        return kill_sent ? Clock::time_point::max() : term_sent ? kill_at : timeout_at;
    }
};

// The poll() loop until the direct child exits: its output goes to the sink as it comes,
// cancel and deadlines are acted on between reads.
void watch_until_exit(Watch& w, UniqueFd& read_end, std::vector<char>& buf,
                      const OutputSink& sink) {
    const CancelSignal* cancel = w.cancel;
    bool exited = false;
    while (!exited) {
        w.act();
        pollfd fds[3];
        nfds_t n = 0;
        fds[n++] = {w.child.wait_fd(), POLLIN, 0};
        const int pipe_slot = read_end ? static_cast<int>(n) : -1;
        if (read_end) fds[n++] = {read_end.get(), POLLIN, 0};
        // Both cancel fds stay readable once set, so poll only the one we have not acted on.
        if (cancel && w.handled == CancelLevel::none) fds[n++] = {cancel->fd(), POLLIN, 0};
        if (cancel && w.handled == CancelLevel::graceful)
            fds[n++] = {cancel->immediate_fd(), POLLIN, 0};

        if (poll_retry(fds, n, poll_timeout(w.next_deadline())) < 0)
            util::throw_errno("poll", errno);
        if (pipe_slot >= 0 && fds[pipe_slot].revents != 0 && !read_chunk(read_end.get(), buf, sink))
            read_end.reset();
        if (fds[0].revents != 0) exited = w.child.ended();
    }
}

// Whatever the child wrote is already in the pipe; a bounded wait for EOF collects it
// without hanging on a background process that inherited the write end.
void drain_late_output(UniqueFd& read_end, std::vector<char>& buf, const OutputSink& sink) {
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
}

// What a stopped command's result says: why it was stopped and how hard.
std::string stop_text(const Watch& w) {
    if (w.reason == StopReason::timeout) {
        std::string text = "timed out after " + describe(w.spec.timeout);
        if (w.kill_sent && w.term_sent)
            text += ", killed after " + describe(w.spec.grace) + " grace";
        return text;
    }
    std::string text = "canceled";
    if (w.handled == CancelLevel::immediate)
        text += ", killed at once";
    else if (w.kill_sent)
        text += ", killed after " + describe(w.spec.grace) + " grace";
    return text;
}

// Starts the command, under the steps' guard when it has one; false with *error when it
// could not be started.
bool start_child(const ProcessSpec& spec, int out_fd, std::optional<RunningChild>& started,
                 std::string* error) {
    if (spec.guard && step_guard_enabled()) {
        UniqueFd channel = spec.guard->start(spec, spawn_environment(spec), out_fd, error);
        if (!channel) return false;
        started.emplace(std::move(channel));
        return true;
    }
    bool direct = false;
    const pid_t pid = spawn_command(spec, out_fd, error, &direct);
    if (pid < 0) return false;
    started.emplace(pid);
    started->set_direct(direct);
    // Through syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C" and cannot link from C++.
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd) util::throw_errno("pidfd_open", errno);
    started->set_pidfd(std::move(pidfd));
    return true;
}

}  // namespace

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
    std::optional<RunningChild> started;
    if (!start_child(spec, write_end.get(), started, &spawn_error))
        return result(ProcessEnd::spawn_failed, k_spawn_failed_code, spawn_error);
    RunningChild& child = *started;
    // Our copy of the write end must go, or EOF would never arrive.
    write_end.reset();

    const auto timeout_at =
        spec.timeout.count() > 0 ? start + spec.timeout : Clock::time_point::max();
    Watch watch{spec, cancel, child, timeout_at};
    std::vector<char> buf(k_chunk_size);
    watch_until_exit(watch, read_end, buf, sink);

    // Grandchildren of a stopped command must not survive it; signal before reaping so
    // the group id cannot have been recycled.
    if (watch.reason != StopReason::none) child.signal_group(SIGKILL);
    const int status = child.reap();
    drain_late_output(read_end, buf, sink);

    if (child.start_failed())
        return result(ProcessEnd::spawn_failed, k_spawn_failed_code, child.problem());
    if (!child.problem().empty())
        return result(ProcessEnd::signaled, 128 + SIGKILL, child.problem());
    const bool direct = child.direct();
    const int code = exit_code_of(status);
    if (watch.reason != StopReason::none)
        return result(
            watch.reason == StopReason::timeout ? ProcessEnd::timed_out : ProcessEnd::canceled,
            code, stop_text(watch));
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
