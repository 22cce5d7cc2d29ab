// Starting one command (for run_process in process_posix.cpp, and for the steps' guard) the
// way ninja's subprocess-posix.cc does: posix_spawn, a process group of its own, default
// signal handling, stdin from /dev/null; directly when the command is plain words, else
// /bin/sh.
#include "util/process_spawn.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "util/command_words.hpp"

extern char** environ;

namespace depctl {

namespace {

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

}  // namespace

std::vector<std::string> spawn_environment(const ProcessSpec& spec) {
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

namespace {

// The child's attributes and descriptors, the same whichever way it is started.
void prepare(SpawnSetup& setup, const std::filesystem::path& workdir, int out_fd) {
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
    if (!workdir.empty()) ::posix_spawn_file_actions_addchdir_np(&setup.m_actions, workdir.c_str());
}

// Pointers into `strings` (which must outlive them), null-terminated for posix_spawn.
std::vector<char*> envp_of(std::vector<std::string>& strings) {
    std::vector<char*> envp;
    envp.reserve(strings.size() + 1);
    for (auto& s : strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    return envp;
}

// Plain words whose program is on PATH are exec'd without a shell; -1 when that is not
// possible or the exec fails (the caller then goes through /bin/sh).
pid_t spawn_direct(SpawnSetup& setup, const SpawnCommand& what,
                   const std::vector<std::string>& env_strings) {
    auto words = what.via_shell ? std::nullopt : plain_command_words(what.command);
    if (!words) return -1;
    const auto path = env_lookup(env_strings, "PATH");
    const auto program = path ? find_program(words->front(), *path) : std::nullopt;
    if (!program) return -1;
    std::vector<std::string> direct_env = env_strings;
    if (what.workdir.empty()) set_pwd_as_the_shell_would(direct_env);
    std::vector<char*> envp = envp_of(direct_env);
    std::vector<char*> argv;
    for (auto& w : *words) argv.push_back(w.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    if (::posix_spawn(&pid, program->c_str(), &setup.m_actions, &setup.m_attr, argv.data(),
                      envp.data()) == 0)
        return pid;
    return -1;
}

pid_t spawn_shell(SpawnSetup& setup, const SpawnCommand& what,
                  std::vector<std::string>& env_strings, std::string* error) {
    std::vector<char*> envp = envp_of(env_strings);
    std::string sh = "/bin/sh", dash_c = "-c", command = what.command;
    char* argv[] = {sh.data(), dash_c.data(), command.data(), nullptr};
    pid_t pid = -1;
    const int rc =
        ::posix_spawn(&pid, "/bin/sh", &setup.m_actions, &setup.m_attr, argv, envp.data());
    if (rc != 0) {
        *error = "cannot start /bin/sh";
        if (!what.workdir.empty()) *error += " in " + what.workdir.string();
        *error += ": " + std::generic_category().message(rc);
        return -1;
    }
    return pid;
}

}  // namespace

pid_t spawn_prepared(const SpawnCommand& what, std::vector<std::string>& env, int out_fd,
                     std::string* error, bool* direct) {
    SpawnSetup setup;
    prepare(setup, what.workdir, out_fd);
    const pid_t pid = spawn_direct(setup, what, env);
    *direct = pid >= 0;
    return pid >= 0 ? pid : spawn_shell(setup, what, env, error);
}

pid_t spawn_command(const ProcessSpec& spec, int out_fd, std::string* error, bool* direct) {
    std::vector<std::string> env = spawn_environment(spec);
    return spawn_prepared({spec.command, spec.workdir, spec.via_shell}, env, out_fd, error, direct);
}

}  // namespace depctl
