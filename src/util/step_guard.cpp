// The step guard: the parent of every deployment step, so that no step outlives a
// deployer killed with SIGKILL (DESIGN §9 "Honest status"; docs/decisions.md).
//
// run_process() starts `/proc/self/exe __step-guard PPID GRACE_MS COMMAND` as the leader of
// the step's process group. The guard asks the kernel for a signal when its parent dies
// (PR_SET_PDEATHSIG), forks /bin/sh -c COMMAND into the same group and waits. When the
// shell ends, the guard ends the same way, so run_process sees what it always saw. When
// depctl dies first, the guard sends SIGTERM to the group, waits up to GRACE_MS for every
// process the step started to end (it is their subreaper), then SIGKILLs the whole group,
// itself included.
//
// A file descriptor 3, when the guard inherits one, is kept open (but not passed to the
// shell) until the group is gone: it holds the environment's steps lock, so the next
// deployer can wait for every step of a dead one to end.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/process.hpp"

namespace depctl {
namespace {

constexpr int k_held_fd = 3;

void say(const char* text) {
    const ssize_t ignored = ::write(STDERR_FILENO, text, std::strlen(text));
    (void)ignored;
}

long long now_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// The deployer is gone: its step must not run on unsupervised.
[[noreturn]] void end_group(long long grace_ms) {
    ::kill(0, SIGTERM);  // the group: the shell and everything it started (we block SIGTERM)
    // As a subreaper the guard is the parent of every orphan of the step: when waitpid
    // says there is no child left, the step has ended whole; else SIGKILL after the grace.
    const long long deadline = now_ms() + grace_ms;
    while (now_ms() < deadline) {
        int status = 0;
        const pid_t done = ::waitpid(-1, &status, WNOHANG);
        if (done < 0 && errno == ECHILD) break;
        if (done > 0) continue;
        timespec pause{0, 20 * 1000 * 1000};
        ::nanosleep(&pause, nullptr);
    }
    ::kill(0, SIGKILL);  // what is left of the group, and the guard itself
    ::_exit(137);
}

// Ends the guard the way the shell ended, so the exit status run_process sees is the same.
[[noreturn]] void end_like(int status) {
    if (WIFEXITED(status)) ::_exit(WEXITSTATUS(status));
    const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    ::sigprocmask(SIG_UNBLOCK, &one, nullptr);
    ::raise(sig);
    ::_exit(128 + sig);
}

}  // namespace

bool is_step_guard_call(int argc, char** argv) {
    return argc >= 2 && std::strcmp(argv[1], k_step_guard_argument) == 0;
}

int step_guard_main(int argc, char** argv) {
    if (argc != 5) {
        say("depctl: the step guard is started by depctl itself\n");
        return 2;
    }
    const pid_t parent = static_cast<pid_t>(std::atoll(argv[2]));
    const long long grace_ms = std::atoll(argv[3]);
    const char* command = argv[4];

    // Every signal that matters arrives through sigtimedwait below, never asynchronously.
    sigset_t watched;
    sigemptyset(&watched);
    for (int sig : {SIGCHLD, SIGUSR1, SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&watched, sig);
    sigset_t before;
    ::sigprocmask(SIG_BLOCK, &watched, &before);
    ::prctl(PR_SET_PDEATHSIG, SIGUSR1);
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (::getppid() != parent) return 125;  // depctl died before we could watch it

    const pid_t shell = ::fork();
    if (shell < 0) {
        say("depctl: cannot start /bin/sh: fork failed\n");
        return 127;
    }
    if (shell == 0) {
        ::close(k_held_fd);  // the steps lock stays with the guard, not with the step
        ::sigprocmask(SIG_SETMASK, &before, nullptr);
        ::execl("/bin/sh", "sh", "-c", command, static_cast<char*>(nullptr));
        say("depctl: cannot start /bin/sh\n");
        ::_exit(127);
    }
    for (;;) {
        timespec tick{1, 0};
        siginfo_t info{};
        const int sig = ::sigtimedwait(&watched, &info, &tick);
        int status = 0;
        if (::waitpid(shell, &status, WNOHANG) == shell) end_like(status);
        // SIGTERM/SIGINT from depctl reach the shell through the group: the guard waits
        // for it to end. Only the death of depctl makes it act, and that is read from
        // getppid(): PR_SET_PDEATHSIG also fires when the *thread* that spawned the guard
        // ends while depctl lives on (the guard is then re-parented to another thread of
        // the same process, so getppid() is unchanged). SIGUSR1 only wakes us early.
        (void)sig;
        if (::getppid() != parent) end_group(grace_ms);
    }
}

}  // namespace depctl
