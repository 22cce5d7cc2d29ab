// The step guard: the parent of every deployment step, so that no step outlives a
// deployer killed with SIGKILL (DESIGN §9 "Honest status"; docs/decisions.md).
//
// run_process() starts `/proc/self/exe __step-guard PPID GRACE_MS auto|shell COMMAND` as the
// leader of the step's process group. The guard asks the kernel for a signal when its parent
// dies (PR_SET_PDEATHSIG), forks the command into the same group (exec'd directly when it is
// plain words, as run_process does unguarded; else /bin/sh -c COMMAND) and waits. When the
// step ends, the guard ends the same way, so run_process sees what it always saw. When
// depctl dies first, the guard sends SIGTERM to the group, waits up to GRACE_MS for every
// process the step started to end (it is their subreaper), then SIGKILLs the whole group,
// itself included.
//
// A file descriptor 3, when the guard inherits one, is kept open (but not passed to the
// shell) until the group is gone: it holds the environment's steps lock, so the next
// deployer can wait for every step of a dead one to end.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "util/command_words.hpp"
#include "util/process.hpp"

extern char** environ;

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

// Ends the guard the way the step ended, so the exit status run_process sees is the same.
// A program exec'd directly that died by a signal ends as dash would have: the report on
// stderr (the step's log) and exit 128+n.
// When the guard got that same signal, it was sent to the whole group (a cancel or a
// timeout), and a shell would have died of it too: no report then.
[[noreturn]] void end_like(int status, bool direct, const sigset_t& received) {
    if (WIFEXITED(status)) ::_exit(WEXITSTATUS(status));
    const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
    if (direct && sigismember(&received, sig) != 1) {
        const std::string line = shell_signal_report(status);
        say(line.c_str());
        ::_exit(128 + sig);
    }
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

// The program to exec directly for plain words (util/command_words.hpp), as run_process
// would without the guard; nullopt for the shell.
std::optional<std::string> direct_program(const char* command, bool via_shell,
                                          std::vector<std::string>* words) {
    if (via_shell) return std::nullopt;
    auto plain = plain_command_words(command);
    const char* path = std::getenv("PATH");
    if (!plain || !path) return std::nullopt;
    auto program = find_program(plain->front(), path);
    if (program) *words = std::move(*plain);
    return program;
}

// Forks the step: the program itself when it can be exec'd directly, else (or when that
// exec fails) /bin/sh -c COMMAND. *direct says which one runs: the child reports a failed
// direct exec through a close-on-exec pipe before it falls back to the shell.
pid_t start_step(const char* command, bool via_shell, const sigset_t& mask, bool* direct) {
    std::vector<std::string> words;
    const auto program = direct_program(command, via_shell, &words);
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
    if (program) set_pwd_as_the_shell_would(env);
    std::vector<char*> envp, argv;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    int report[2] = {-1, -1};
    if (program && ::pipe2(report, O_CLOEXEC) < 0) report[0] = report[1] = -1;

    const pid_t step = ::fork();
    if (step < 0) {
        say("depctl: cannot start the step: fork failed\n");
        return -1;
    }
    if (step == 0) {
        ::close(k_held_fd);  // the steps lock stays with the guard, not with the step
        ::sigprocmask(SIG_SETMASK, &mask, nullptr);
        if (program && report[1] >= 0) {
            ::execve(program->c_str(), argv.data(), envp.data());
            const ssize_t ignored = ::write(report[1], "x", 1);
            (void)ignored;
        }
        ::execl("/bin/sh", "sh", "-c", command, static_cast<char*>(nullptr));
        say("depctl: cannot start /bin/sh\n");
        ::_exit(127);
    }
    if (report[1] >= 0) {
        ::close(report[1]);
        char byte = 0;
        ssize_t n;
        while ((n = ::read(report[0], &byte, 1)) < 0 && errno == EINTR) {
        }
        *direct = n == 0;  // EOF: the exec of the program succeeded
        ::close(report[0]);
    }
    return step;
}

}  // namespace

bool is_step_guard_call(int argc, char** argv) {
    return argc >= 2 && std::strcmp(argv[1], k_step_guard_argument) == 0;
}

int step_guard_main(int argc, char** argv) {
    if (argc != 6) {
        say("depctl: the step guard is started by depctl itself\n");
        return 2;
    }
    const pid_t parent = static_cast<pid_t>(std::atoll(argv[2]));
    const long long grace_ms = std::atoll(argv[3]);
    const bool via_shell = std::strcmp(argv[4], "shell") == 0;
    const char* command = argv[5];

    // Every signal that matters arrives through sigtimedwait below, never asynchronously.
    sigset_t watched;
    sigemptyset(&watched);
    for (int sig : {SIGCHLD, SIGUSR1, SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&watched, sig);
    sigset_t before;
    ::sigprocmask(SIG_BLOCK, &watched, &before);
    ::prctl(PR_SET_PDEATHSIG, SIGUSR1);
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (::getppid() != parent) return 125;  // depctl died before we could watch it

    bool direct = false;
    const pid_t step = start_step(command, via_shell, before, &direct);
    if (step < 0) return 127;
    sigset_t received;
    sigemptyset(&received);
    for (;;) {
        timespec tick{1, 0};
        siginfo_t info{};
        const int sig = ::sigtimedwait(&watched, &info, &tick);
        if (sig > 0) sigaddset(&received, sig);
        int status = 0;
        if (::waitpid(step, &status, WNOHANG) == step) end_like(status, direct, received);
        // SIGTERM/SIGINT from depctl reach the step through the group: the guard waits
        // for it to end. Only the death of depctl makes it act, and that is read from
        // getppid(): PR_SET_PDEATHSIG also fires when the *thread* that spawned the guard
        // ends while depctl lives on (the guard is then re-parented to another thread of
        // the same process, so getppid() is unchanged). SIGUSR1 only wakes us early.
        if (::getppid() != parent) end_group(grace_ms);
    }
}

}  // namespace depctl
