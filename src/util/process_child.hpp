// One started command as run_process (process_posix.cpp) watches it: a child of depctl, or a
// step started by the steps' guard (util/step_guard.hpp).
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>
#include <string_view>

#include "util/fd.hpp"
#include "util/step_guard_protocol.hpp"

namespace depctl {

// Owns a started child until it is reaped: a child of ours (its pid and pidfd), or a step
// started by the steps' guard (its channel, util/step_guard_protocol.hpp). If we unwind early
// (a throwing sink, a failed pidfd_open) the whole group is killed so no process outlives the
// call unsupervised.
class RunningChild {
public:
    explicit RunningChild(pid_t pid) : m_pid(pid) {}
    explicit RunningChild(UniqueFd channel) : m_channel(std::move(channel)) {}
    ~RunningChild() {
        if (m_reaped) return;
        signal_group(SIGKILL);
        reap();
    }
    RunningChild(const RunningChild&) = delete;
    RunningChild& operator=(const RunningChild&) = delete;

    void set_pidfd(UniqueFd pidfd) { m_pidfd = std::move(pidfd); }
    // Readable when the child has ended (or, guarded, when its guard has something to say).
    int wait_fd() const { return m_channel ? m_channel.get() : m_pidfd.get(); }
    // Signals the group. A child of ours: only before reap(), while the leader is unreaped
    // its pid cannot be reused, so -pid cannot name somebody else's group. Guarded: the
    // guard signals it while its leader is unreaped, and kills a stopped step's group before
    // it reaps the leader.
    void signal_group(int sig) const {
        if (!m_channel) {
            ::kill(-m_pid, sig);
            return;
        }
        const char request = sig == SIGTERM ? guard_protocol::k_term : guard_protocol::k_kill;
        while (::send(m_channel.get(), &request, 1, MSG_NOSIGNAL) < 0 && errno == EINTR) {
        }
    }
    // After wait_fd() was readable: whether the child has ended.
    bool ended() {
        if (!m_channel) return true;
        char buf[512];
        ssize_t n;
        while ((n = ::read(m_channel.get(), buf, sizeof buf)) < 0 && errno == EINTR) {
        }
        if (n <= 0) {
            m_problem = "its guard process ended before the step did";
            m_status = SIGKILL;  // as if killed: its outcome is unknown
            return m_guard_done = true;
        }
        m_answer.append(buf, static_cast<std::size_t>(n));
        return m_guard_done = guard_answer();
    }
    int reap() {
        if (m_channel) {
            while (!m_guard_done) {
                pollfd pfd{m_channel.get(), POLLIN, 0};
                while (::poll(&pfd, 1, -1) < 0 && errno == EINTR) {
                }
                ended();
            }
        } else {
            while (::waitpid(m_pid, &m_status, 0) < 0 && errno == EINTR) {
            }
        }
        m_reaped = true;
        return m_status;
    }
    bool guarded() const { return static_cast<bool>(m_channel); }
    bool direct() const { return m_direct; }
    void set_direct(bool direct) { m_direct = direct; }
    bool start_failed() const { return m_start_failed; }
    // Why a guarded step has no exit status of its own; empty when it has one.
    const std::string& problem() const { return m_problem; }

private:
    // Whether the guard's answer is complete: the step's wait status, or why it did not start.
    bool guard_answer() {
        namespace proto = guard_protocol;
        if (m_answer.empty()) return false;
        if (m_answer[0] == proto::k_exited && m_answer.size() >= proto::k_exited_size) {
            m_status = static_cast<int>(proto::get_u32(std::string_view(m_answer).substr(1)));
            m_direct = m_answer[5] != 0;
            return true;
        }
        if (m_answer[0] == proto::k_failed && m_answer.size() >= 5) {
            const std::size_t size = proto::get_u32(std::string_view(m_answer).substr(1));
            if (m_answer.size() < 5 + size) return false;
            m_problem = m_answer.substr(5, size);
            m_start_failed = true;
            return true;
        }
        if (m_answer[0] == proto::k_exited || m_answer[0] == proto::k_failed) return false;
        m_problem = "its guard process gave an answer depctl does not know";
        m_status = SIGKILL;
        return true;
    }

    pid_t m_pid = -1;
    UniqueFd m_pidfd;
    UniqueFd m_channel;
    std::string m_answer;
    std::string m_problem;
    int m_status = 0;
    bool m_direct = false;
    bool m_reaped = false;
    bool m_guard_done = false;
    bool m_start_failed = false;
};

}  // namespace depctl
