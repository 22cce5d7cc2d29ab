#include "util/command_words.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace depctl {
namespace {

// POSIX reserved words and special builtins, and dash's other builtins: for each, a shell
// does something no program of that name would do the same way (`cd`, `exit`, `echo -e`).
constexpr std::array<std::string_view, 46> k_shell_words = {
    "!",       "{",        "}",      "case",  "do",    "done",  "elif",   "else",
    "esac",    "fi",       "for",    "if",    "in",    "then",  "until",  "while",
    ".",       ":",        "[",      "alias", "bg",    "break", "cd",     "chdir",
    "command", "continue", "echo",   "eval",  "exec",  "exit",  "export", "fc",
    "fg",      "getopts",  "hash",   "jobs",  "kill",  "local", "printf", "pwd",
    "read",    "readonly", "return", "set",   "shift", "test"};
constexpr std::array<std::string_view, 9> k_more_shell_words = {
    "times", "trap", "type", "ulimit", "umask", "unalias", "unset", "wait", "newgrp"};

bool plain_byte(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("_-./,:=+@%").find(c) != std::string_view::npos;
}

bool is_shell_word(std::string_view word) {
    return std::find(k_shell_words.begin(), k_shell_words.end(), word) != k_shell_words.end() ||
           std::find(k_more_shell_words.begin(), k_more_shell_words.end(), word) !=
               k_more_shell_words.end();
}

}  // namespace

std::optional<std::vector<std::string>> plain_command_words(std::string_view command) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < command.size()) {
        const char c = command[i];
        if (c == ' ' || c == '\t') {
            ++i;
            continue;
        }
        const std::size_t start = i;
        while (i < command.size() && command[i] != ' ' && command[i] != '\t') {
            if (!plain_byte(command[i])) return std::nullopt;
            ++i;
        }
        words.emplace_back(command.substr(start, i - start));
    }
    if (words.empty()) return std::nullopt;
    const std::string& first = words.front();
    if (first.find('=') != std::string::npos) return std::nullopt;
    // Builtins `true`/`false` ignore arguments; the programs take --help and --version.
    if ((first == "true" || first == "false") && words.size() == 1) return words;
    if (first == "true" || first == "false" || is_shell_word(first)) return std::nullopt;
    return words;
}

std::optional<std::string> find_program(const std::string& name, std::string_view path) {
    if (name.find('/') != std::string::npos) return name;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find(':', start);
        if (end == std::string_view::npos) end = path.size();
        const std::string_view dir = path.substr(start, end - start);
        if (dir.empty() || dir.front() != '/') return std::nullopt;
        std::string candidate(dir);
        if (candidate.back() != '/') candidate += '/';
        candidate += name;
        struct stat info {};
        if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
            ::access(candidate.c_str(), X_OK) == 0)
            return candidate;
        start = end + 1;
    }
    return std::nullopt;
}

std::optional<std::string_view> env_lookup(const std::vector<std::string>& env,
                                           std::string_view key) {
    for (const auto& entry : env)
        if (entry.size() > key.size() && entry[key.size()] == '=' && entry.starts_with(key))
            return std::string_view(entry).substr(key.size() + 1);
    return std::nullopt;
}

void set_pwd_as_the_shell_would(std::vector<std::string>& env) {
    const auto pwd = env_lookup(env, "PWD");
    struct stat named {
    }, here{};
    if (pwd && pwd->starts_with('/') && ::stat(std::string(*pwd).c_str(), &named) == 0 &&
        ::stat(".", &here) == 0 && named.st_dev == here.st_dev && named.st_ino == here.st_ino)
        return;
    std::error_code ec;
    const std::string cwd = std::filesystem::current_path(ec).string();
    if (ec) return;
    std::erase_if(env, [](const std::string& e) { return e.starts_with("PWD="); });
    env.push_back("PWD=" + cwd);
}

std::string shell_signal_report(int status) {
    if (!WIFSIGNALED(status)) return {};
    const int sig = WTERMSIG(status);
    if (sig == SIGINT || sig == SIGPIPE) return {};
    const char* text = ::sigdescr_np(sig);
    std::string line = text ? text : "Signal " + std::to_string(sig);
    if (WCOREDUMP(status)) line += " (core dumped)";
    return line + "\n";
}

}  // namespace depctl
