// The steps' guard process (util/step_guard.hpp): one per deployment, the parent of every
// step, so that no step outlives a deployer killed with SIGKILL. It speaks
// util/step_guard_protocol.hpp on the control socket it is given, starts each step with
// spawn_prepared (the same rule for a direct exec or /bin/sh as run_process without it), and
// is the subreaper of everything the steps start.
//
// When the control socket ends without 'Q', depctl is gone: every running step's process
// group gets SIGTERM, and SIGKILL once the step's grace is over; when every one of those
// groups is empty, the guard exits, which closes the steps lock it holds (fd HELD_FD).
// Not PR_SET_PDEATHSIG: it fires when the *thread* that spawned the guard ends; the
// socket's end is the process's.
#include "util/step_guard.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <list>
#include <string>
#include <vector>

#include "util/fd.hpp"
#include "util/process_spawn.hpp"
#include "util/step_guard_protocol.hpp"

namespace depctl {
namespace {

namespace proto = guard_protocol;

long long now_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void send_all(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // depctl gave up on the step: nobody to tell
        done += static_cast<std::size_t>(n);
    }
}

// One step: its channel, its request as it arrives, then its process group.
struct Step {
    UniqueFd channel;
    UniqueFd output;  // until the step is started
    std::string request;
    pid_t pid = -1;  // the group's leader, and so the group's id
    bool direct = false;
    bool stopping = false;  // a stop was asked for: its group goes down with it
    bool reaped = false;
    long long grace_ms = 10000;
    long long kill_at = -1;  // when depctl is gone: the SIGKILL deadline
    bool ending = false;     // running when depctl died: ended by the guard, waited for

    void signal(int sig) {
        if (pid > 0 && !reaped) ::kill(-pid, sig);
    }
    // Whether anything of the step's group is still there.
    bool group_alive() const { return pid > 0 && (!reaped || ::kill(-pid, 0) == 0); }
};

class Guard {
public:
    explicit Guard(int control) : m_control(control) {}
    [[noreturn]] void run();

private:
    void read_control();
    void read_channel(Step& step);
    void apply_stops(Step& step, const char* bytes, std::size_t count);
    void read_pending_stops(Step& step);
    void start(Step& step, const proto::Request& request);
    void reap();
    void end_all(long long now);
    bool finished() const;

    UniqueFd m_control;
    UniqueFd m_children;  // signalfd for SIGCHLD
    std::list<Step> m_steps;
    bool m_depctl_gone = false;
    bool m_quit = false;
};

void Guard::read_control() {
    char byte = 0;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char space[CMSG_SPACE(sizeof(int) * 2)] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = space;
    msg.msg_controllen = sizeof space;
    const ssize_t n = ::recvmsg(m_control.get(), &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {  // depctl is gone (or said nothing and closed: the same)
        m_control.reset();
        m_depctl_gone = !m_quit;
        return;
    }
    std::vector<int> fds;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            fds.push_back(fd);
        }
    }
    if (byte == proto::k_run && fds.size() == 2) {
        Step& step = m_steps.emplace_back();
        step.output.reset(fds[0]);
        step.channel.reset(fds[1]);
        return;
    }
    for (int fd : fds) ::close(fd);
    if (byte == proto::k_quit) m_quit = true;
}

void Guard::start(Step& step, const proto::Request& request) {
    if (m_depctl_gone || m_quit) {  // too late: nobody would watch it
        step.output.reset();
        step.channel.reset();
        return;
    }
    std::vector<std::string> env = request.env;
    std::string error;
    step.grace_ms = request.grace_ms;
    step.pid = spawn_prepared({request.command, request.workdir, request.via_shell}, env,
                              step.output.get(), &error, &step.direct);
    step.output.reset();
    if (step.pid < 0) {
        std::string answer(1, proto::k_failed);
        proto::put_u32(answer, static_cast<std::uint32_t>(error.size()));
        send_all(step.channel.get(), answer + error);
        step.channel.reset();
    }
}

void Guard::read_channel(Step& step) {
    char buf[65536];
    const ssize_t n = ::read(step.channel.get(), buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
        // depctl gave up on the step (it sends 'K' first) or is gone (the control socket
        // says so): either way nothing more to read.
        step.channel.reset();
        return;
    }
    if (step.pid > 0 || !step.output) {  // stop requests
        apply_stops(step, buf, static_cast<std::size_t>(n));
        return;
    }
    step.request.append(buf, static_cast<std::size_t>(n));
    if (step.request.size() < 4) return;
    const std::uint32_t size = proto::get_u32(step.request);
    if (size > proto::k_max_request) {
        step.channel.reset();
        return;
    }
    if (step.request.size() < 4 + size) return;
    const auto request = proto::decode(std::string_view(step.request).substr(4, size));
    const std::string rest = step.request.substr(4 + size);
    step.request.clear();
    step.request.shrink_to_fit();
    if (!request) {
        step.channel.reset();
        return;
    }
    start(step, *request);
    apply_stops(step, rest.data(), rest.size());
}

void Guard::apply_stops(Step& step, const char* bytes, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
        if (bytes[i] != proto::k_term && bytes[i] != proto::k_kill) continue;
        step.stopping = true;
        step.signal(bytes[i] == proto::k_term ? SIGTERM : SIGKILL);
    }
}

// A stop request sent just as the step ended must still take its group down: read what
// depctl sent before the leader is reaped.
void Guard::read_pending_stops(Step& step) {
    if (!step.channel) return;
    char buf[256];
    ssize_t n;
    while ((n = ::recv(step.channel.get(), buf, sizeof buf, MSG_DONTWAIT)) > 0)
        apply_stops(step, buf, static_cast<std::size_t>(n));
}

// Reaps whatever ended: a step (a stopped step's group is killed before its leader is
// reaped, so the group's id cannot have been reused; then depctl is told) or an orphan a
// step left behind (the guard is their subreaper).
void Guard::reap() {
    for (;;) {
        siginfo_t info{};
        if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
        const pid_t pid = info.si_pid;
        Step* step = nullptr;
        for (Step& s : m_steps)
            if (s.pid == pid && !s.reaped) step = &s;
        if (step) read_pending_stops(*step);
        if (step && step->stopping) ::kill(-pid, SIGKILL);
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (!step) continue;
        step->reaped = true;
        if (!step->channel) continue;
        std::string answer(1, proto::k_exited);
        proto::put_u32(answer, static_cast<std::uint32_t>(status));
        answer.push_back(step->direct ? 1 : 0);
        send_all(step->channel.get(), answer);
    }
}

// depctl is gone: SIGTERM to every running step's group, SIGKILL after its grace.
void Guard::end_all(long long now) {
    for (Step& step : m_steps) {
        if (step.pid <= 0) continue;
        if (step.kill_at < 0) {  // only what was still running: a finished step's server stays
            step.kill_at = now + step.grace_ms;
            step.ending = !step.reaped;
            if (step.ending) ::kill(-step.pid, SIGTERM);
        } else if (step.ending && now >= step.kill_at && step.group_alive()) {
            ::kill(-step.pid, SIGKILL);
        }
    }
}

bool Guard::finished() const {
    for (const Step& step : m_steps)
        if (step.ending && step.group_alive()) return false;
    return true;
}

void Guard::run() {
    sigset_t children;
    sigemptyset(&children);
    sigaddset(&children, SIGCHLD);
    // A SIGTERM (a `pkill`, a service manager) must not end the guard before its steps:
    // they would run on unsupervised beside the next deployment. Blocked, not ignored, so
    // that the steps (spawned with an empty mask and default actions) do not inherit it.
    sigset_t blocked = children;
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&blocked, sig);
    ::sigprocmask(SIG_BLOCK, &blocked, nullptr);
    m_children.reset(::signalfd(-1, &children, SFD_CLOEXEC | SFD_NONBLOCK));
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    for (;;) {
        if (m_quit) {  // the deployment is over: nothing of it runs on
            for (Step& step : m_steps) step.signal(SIGKILL);
            ::_exit(0);
        }
        if (m_depctl_gone) {
            end_all(now_ms());
            reap();
            if (finished()) ::_exit(0);
        }
        std::vector<pollfd> fds;
        std::vector<Step*> owners;
        fds.push_back({m_children.get(), POLLIN, 0});
        if (m_control) fds.push_back({m_control.get(), POLLIN, 0});
        for (Step& step : m_steps) {
            if (!step.channel) continue;
            fds.push_back({step.channel.get(), POLLIN, 0});
            owners.push_back(&step);
        }
        const int timeout = m_depctl_gone ? 20 : -1;
        if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) ::_exit(70);
        // Requests first: a stop that arrived with the step's end applies before the reap.
        const std::size_t first_channel = m_control ? 2 : 1;
        if (m_control && fds[1].revents != 0) read_control();
        for (std::size_t i = 0; i < owners.size(); ++i)
            if (fds[first_channel + i].revents != 0) read_channel(*owners[i]);
        if (fds[0].revents != 0) {
            signalfd_siginfo info[16];
            while (::read(m_children.get(), info, sizeof info) > 0) {
            }
            reap();
        }
        // A step is forgotten once it is over and depctl knows; once depctl is gone, only
        // when nothing of its group is left.
        m_steps.remove_if([this](const Step& s) {
            return !s.channel &&
                   (s.pid <= 0 || (s.reaped && (!m_depctl_gone || !s.ending || !s.group_alive())));
        });
    }
}

// Whatever else the guard inherited (a server's accepted connections in depctl-ui, where
// the HTTP library accepts without close-on-exec) must not reach the steps.
void close_inherited(int control, int held) {
    int keep[2] = {std::min(control, held), std::max(control, held)};
    unsigned first = 3;
    for (int fd : keep) {
        if (fd < 3) continue;
        if (static_cast<unsigned>(fd) > first)
            ::close_range(first, static_cast<unsigned>(fd) - 1, 0);
        first = static_cast<unsigned>(fd) + 1;
    }
    ::close_range(first, ~0U, 0);
}

}  // namespace

bool is_step_guard_call(int argc, char** argv) {
    return argc >= 2 && std::strcmp(argv[1], k_step_guard_argument) == 0;
}

int step_guard_main(int argc, char** argv) {
    if (argc != 4) {
        const char text[] = "depctl: the step guard is started by depctl itself\n";
        const ssize_t ignored = ::write(STDERR_FILENO, text, sizeof text - 1);
        (void)ignored;
        return 2;
    }
    const int control = std::atoi(argv[2]);
    int held = -1;
    if (std::strcmp(argv[3], "-") != 0) {
        // Kept open until the guard exits, never passed to a step.
        held = std::atoi(argv[3]);
        ::fcntl(held, F_SETFD, FD_CLOEXEC);
    }
    ::fcntl(control, F_SETFD, FD_CLOEXEC);
    ::fcntl(control, F_SETFL, O_NONBLOCK);
    close_inherited(control, held);
    Guard(control).run();
}

}  // namespace depctl
