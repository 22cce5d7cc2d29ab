// libFuzzer target: command-line parsing and dispatch, in process, against a temporary
// project. An input is split at '\n' into argv words. Checked on every input:
//   - no crash, leak or hang (the sanitizers and libFuzzer's -timeout);
//   - only depctl::Error reaches the user: "internal error" (any other exception caught
//     by depctl_main's last resort) is a bug;
//   - exit codes are those of DESIGN §6 for commands that do not deploy: 0, 2, 3, 5, 6;
//   - a refused command prints "error: ..." and leaves state.json byte-for-byte unchanged;
//   - whatever happened, state.json still loads and validates.
// Commands that run steps (deploy, stop, cancel) are not fuzzed here, and no word may
// hold a '/', so that no input can name a path outside the temporary directory (an
// --state, a migrate target, an etcd:// URL).
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "depctl/error.hpp"
#include "depctl/model.hpp"
#include "depctl_main.hpp"

namespace fs = std::filesystem;

namespace {

constexpr std::size_t k_max_words = 64;

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "fuzz_cli: %s\n", what.c_str());
    std::abort();
}

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
    if (!out) fail("cannot restore " + path.string());
}

struct Outcome {
    int code;
    std::string out;
    std::string err;
};

// Runs depctl_main with stdout and stderr captured.
Outcome run(const std::vector<std::string>& words) {
    std::vector<std::string> storage;
    storage.reserve(words.size() + 1);
    storage.push_back("depctl");
    storage.insert(storage.end(), words.begin(), words.end());
    std::vector<char*> argv;
    for (auto& word : storage) argv.push_back(word.data());
    argv.push_back(nullptr);

    std::ostringstream out;
    std::ostringstream err;
    std::streambuf* old_out = std::cout.rdbuf(out.rdbuf());
    std::streambuf* old_err = std::cerr.rdbuf(err.rdbuf());
    const int code = depctl_main(static_cast<int>(storage.size()), argv.data());
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    return {code, out.str(), err.str()};
}

std::string words_text(const std::vector<std::string>& words) {
    std::string text;
    for (const auto& w : words) text += " [" + w + "]";
    return text;
}

// A project with two environments, stages, services, a dependency, a skipped service and
// settings, created through the CLI itself; restored before every input.
class Sandbox {
public:
    Sandbox() {
        const char* shm = "/dev/shm";
        const fs::path base = ::access(shm, W_OK) == 0 ? fs::path(shm) : fs::temp_directory_path();
        std::string pattern = (base / "depctl-fuzz-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) fail("mkdtemp failed");
        m_root = pattern;
        m_project = m_root / "project";
        m_home = m_root / "home";
        fs::create_directories(m_project);
        fs::create_directories(m_home);
        for (const char* name :
             {"DEPCTL_STATE", "DEPCTL_ENVIRONMENT", "DEPCTL_VERSION", "NO_COLOR", "CI"})
            ::unsetenv(name);
        ::setenv("HOME", m_home.c_str(), 1);
        ::setenv("XDG_CONFIG_HOME", (m_home / ".config").c_str(), 1);
        ::setenv("XDG_STATE_HOME", (m_home / ".local-state").c_str(), 1);
        fs::current_path(m_project);

        const std::vector<std::vector<std::string>> setup = {
            {"init", "--project", "fuzz"},
            {"environment", "create", "production", "--type", "production"},
            {"environment", "create", "staging"},
            {"environment", "edit", "staging", "--require-approval", "on", "--pre-deploy", "true"},
            {"context", "set", "-e", "production"},
            {"service", "create", "DB", "--type", "database", "--deploy", "echo db"},
            {"service", "create", "Api", "--type", "application", "--build", "make", "--deploy",
             "./run", "--health-cmd", "true", "--env", "K=V", "--deploy-timeout", "30"},
            {"service", "create", "Web", "--type", "application", "--health-http",
             "http://127.0.0.1:1/health"},
            {"service", "depend", "Web", "--on", "Api"},
            {"environment", "stage", "create", "-n", "QA", "-d", "quality gate"},
            {"environment", "stage", "skip", "-n", "DB"},
            {"project", "edit", "--enforced-order", "staging,production"},
        };
        for (const auto& words : setup) {
            const Outcome o = run(words);
            if (o.code != 0) fail("setup failed:" + words_text(words) + "\n" + o.err);
        }
        m_pristine = read_bytes(state_file());
        m_context = read_bytes(context_file());
        std::atexit([] { instance().remove(); });
    }

    static Sandbox& instance() {
        static Sandbox sandbox;
        return sandbox;
    }

    fs::path state_file() const { return m_project / ".depctl" / "state.json"; }
    fs::path context_file() const { return m_home / ".config" / "depctl" / "context.json"; }
    const std::string& pristine() const { return m_pristine; }

    // Back to the state after setup: the same state bytes, the same context, no other file.
    void restore() {
        std::error_code ec;
        if (fs::current_path(ec) != m_project) fs::current_path(m_project);
        for (const auto& entry : fs::directory_iterator(m_project))
            if (entry.path().filename() != ".depctl") fs::remove_all(entry.path(), ec);
        for (const auto& entry : fs::directory_iterator(m_project / ".depctl"))
            if (entry.path().filename() != "state.json" && entry.path().filename() != "state.lock")
                fs::remove_all(entry.path(), ec);
        if (read_bytes(state_file()) != m_pristine) write_bytes(state_file(), m_pristine);
        fs::create_directories(context_file().parent_path());
        if (read_bytes(context_file()) != m_context) write_bytes(context_file(), m_context);
    }

    void remove() {
        std::error_code ec;
        fs::current_path("/", ec);
        fs::remove_all(m_root, ec);
    }

private:
    fs::path m_root;
    fs::path m_project;
    fs::path m_home;
    std::string m_pristine;
    std::string m_context;
};

bool runs_steps(std::string word) {
    std::transform(word.begin(), word.end(), word.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return word == "deploy" || word == "stop" || word == "cancel";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Sandbox& sandbox = Sandbox::instance();
    std::vector<std::string> words;
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    while (!rest.empty()) {
        const std::size_t nl = rest.find('\n');
        words.emplace_back(rest.substr(0, nl));
        if (nl == std::string_view::npos) break;
        rest.remove_prefix(nl + 1);
    }
    if (words.size() > k_max_words) return 0;
    for (const auto& word : words) {
        if (word.find('/') != std::string::npos || runs_steps(word)) return 0;
    }

    sandbox.restore();
    const Outcome o = run(words);
    const std::string what =
        "depctl" + words_text(words) + " -> exit " + std::to_string(o.code) + "\nstderr: " + o.err;
    // How depctl_main reports an exception that is not a depctl::Error. Only at the start:
    // a refusal may quote the input, and the input may say "internal error".
    if (o.err.rfind("error: internal error: ", 0) == 0)
        fail("an exception that is not a depctl::Error: " + what);
    if (o.code != 0 && o.code != 2 && o.code != 3 && o.code != 5 && o.code != 6)
        fail("unexpected exit code: " + what);
    const std::string after = read_bytes(sandbox.state_file());
    if (o.code != 0) {
        if (o.err.rfind("error: ", 0) != 0) fail("a refusal without \"error: \": " + what);
        if (after != sandbox.pristine()) fail("a refused command changed the state: " + what);
    }
    try {
        depctl::parse_state(after, "after the command");
    } catch (const depctl::Error& e) {
        fail(std::string("the state no longer loads: ") + e.what() + "\n" + what);
    }
    return 0;
}
