// Commands exec'd without a shell (util/command_words.hpp) and what run_process makes of them:
// each behaviour is compared with the same command run through /bin/sh -c.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "process_test_support.hpp"
#include "test_support.hpp"
#include "util/command_words.hpp"
#include "util/process.hpp"

namespace fs = std::filesystem;
using depctl::find_program;
using depctl::plain_command_words;
using depctl::ProcessResult;
using depctl::ProcessSpec;

namespace {

using depctl::testing::sorted_lines;
using depctl::testing::write_script;

ProcessResult run(const ProcessSpec& spec, std::string& output,
                  const depctl::CancelSignal* cancel = nullptr) {
    return depctl::testing::run_collecting(spec, output, cancel);
}

using Words = std::vector<std::string>;

// Runs `command` directly and through /bin/sh -c; both must end and print alike.
void check_same(ProcessSpec spec, bool sort = false) {
    REQUIRE(plain_command_words(spec.command).has_value());
    std::string direct_out, shell_out;
    const ProcessResult direct = run(spec, direct_out);
    spec.via_shell = true;
    const ProcessResult shell = run(spec, shell_out);
    CHECK(direct.end == shell.end);
    CHECK(direct.exit_code == shell.exit_code);
    CHECK(direct.error == shell.error);
    if (sort) {
        CHECK(sorted_lines(direct_out) == sorted_lines(shell_out));
    } else {
        CHECK(direct_out == shell_out);
    }
}

}  // namespace

TEST_CASE("plain command words: what runs without a shell", "[process]") {
    CHECK(plain_command_words("true") == Words{"true"});
    CHECK(plain_command_words("  make -C services/api image  ") ==
          Words{"make", "-C", "services/api", "image"});
    CHECK(plain_command_words("./deploy.sh\tweb --port=8080 user@host:1,2+3%") ==
          Words{"./deploy.sh", "web", "--port=8080", "user@host:1,2+3%"});
    CHECK(plain_command_words("/usr/bin/env") == Words{"/usr/bin/env"});
    // The shell's business: syntax, expansions, quoting, keywords, builtins, assignments.
    for (const char* command :
         {"",         "   ",        "echo hi",   "cd /tmp",  "exit 3",    "true --help",
          "false 1",  "FOO=1 env",  "env $HOME", "ls *.txt", "ls ~",      "a | b",
          "a > f",    "a && b",     "a; b",      "a # note", "say 'hi'",  "say \"hi\"",
          "say \\n",  "a\nb",       "say é",     "[ -f x ]", "test -f x", "if",
          "exec env", ". ./env.sh", "kill 1",    "printf x", "pwd",       "a {b,c}",
          "a (b)",    "!a"}) {
        INFO(command);
        CHECK_FALSE(plain_command_words(command).has_value());
    }
}

TEST_CASE("find_program: PATH as the shell searches it", "[process]") {
    depctl::testing::TempDir dir;
    const fs::path bin = dir.path() / "bin";
    fs::create_directories(bin);
    write_script(bin / "tool", "#!/bin/sh\n");
    std::ofstream(bin / "data") << "not executable\n";
    const std::string path = "/nonexistent:" + bin.string();
    CHECK(find_program("tool", path) == (bin / "tool").string());
    CHECK(find_program("data", path) == std::nullopt);
    CHECK(find_program("missing", path) == std::nullopt);
    CHECK(find_program("./here", path) == "./here");
    CHECK(find_program("tool", "relative:" + bin.string()) == std::nullopt);  // needs the cwd
    CHECK(find_program("tool", ":" + bin.string()) == std::nullopt);
}

TEST_CASE("direct and shell runs: same exit codes, signals, output", "[process]") {
    depctl::testing::TempDir dir;
    write_script(dir.path() / "exit3", "#!/bin/sh\necho out; echo err >&2; exit 3\n");
    write_script(dir.path() / "selfkill", "#!/bin/sh\nkill -TERM $$\n");
    write_script(dir.path() / "selfint", "#!/bin/sh\nkill -INT $$\n");
    write_script(dir.path() / "selfsegv", "#!/bin/sh\nkill -SEGV $$\n");
    write_script(dir.path() / "noshebang", "echo run by the shell; exit 4\n");
    ProcessSpec spec;
    spec.workdir = dir.path();
    for (const char* command :
         {"true", "false", "./exit3", "./selfkill", "./selfint", "./selfsegv", "./noshebang",
          "no-such-program-depctl-test", "./missing", "/bin/ls -d .", "sh -c exit"}) {
        INFO(command);
        spec.command = command;
        check_same(spec);
    }
}

TEST_CASE("direct and shell runs: same environment and working directory", "[process]") {
    depctl::testing::TempDir dir;
    ProcessSpec spec;
    spec.command = "env";
    spec.env = {{"DEPCTL_TEST_VAR", "value with spaces"}, {"PATH", "/usr/bin:/bin"}};
    spec.unset = {"HOME"};
    check_same(spec, true);  // no workdir: PWD as the shell sets it
    spec.workdir = dir.path();
    check_same(spec, true);
    spec.command = "/bin/pwd";
    check_same(spec);
    // A PATH of the step's own decides which program runs, on both paths.
    write_script(dir.path() / "hello", "#!/bin/sh\necho hello from the step PATH\n");
    spec.env = {{"PATH", dir.path().string() + ":/usr/bin:/bin"}};
    spec.command = "hello";
    check_same(spec);
    std::string out;
    run(spec, out);
    CHECK(out == "hello from the step PATH\n");
}

TEST_CASE("direct runs: a timeout takes the whole group down", "[process]") {
    ProcessSpec spec;
    spec.command = "sleep 30";
    spec.timeout = std::chrono::milliseconds(200);
    spec.grace = std::chrono::milliseconds(100);
    check_same(spec);
}

TEST_CASE("direct and shell runs: a table of commands decided by the rule, run both ways",
          "[process]") {
    depctl::testing::TempDir dir;
    fs::create_directories(dir.path() / "sub");
    std::ofstream(dir.path() / "a.txt") << "alpha\n";
    std::ofstream(dir.path() / "b.txt") << "beta\n";
    write_script(dir.path() / "args", "#!/bin/sh\nfor a in \"$@\"; do echo \"[$a]\"; done\n");
    write_script(dir.path() / "exit3", "#!/bin/sh\necho out; echo err >&2; exit 3\n");
    write_script(dir.path() / "selfkill", "#!/bin/sh\nkill -TERM $$\n");
    write_script(dir.path() / "noshebang", "echo run by the shell; exit 4\n");
    // Plain words (exec'd directly) and shell syntax (never): the same command run by the rule
    // and forced through /bin/sh -c must end and print the same. A wrong decision shows as a
    // difference: `echo $HOME` exec'd directly would print "$HOME".
    const std::vector<std::pair<const char*, bool>> table = {
        {"true", true},
        {"false", true},
        {"./exit3", true},
        {"./selfkill", true},
        {"./noshebang", true},
        {"./args one two=2 --three", true},
        {"./args\ttabs  and   spaces", true},
        {"/bin/ls -d sub", true},
        {"ls a.txt b.txt", true},
        {"sleep 0.01", true},
        {"no-such-program-depctl-test arg", true},
        {"./missing", true},
        {"sub", true},  // a directory: exec fails, the shell says so
        {"./args 'single quoted'", false},
        {"./args \"double quoted\"", false},
        {"./args back\\slash", false},
        {"ls *.txt", false},
        {"ls ?.txt", false},
        {"echo hi > out.txt && cat out.txt", false},
        {"cat < a.txt", false},
        {"echo $HOME", false},
        {"echo ${PWD}", false},
        {"echo $((1 + 2))", false},
        {"echo `echo nested`", false},
        {"true && echo and", false},
        {"false || echo or", false},
        {"true; echo after", false},
        {"cd sub && /bin/pwd", false},
        {"export X=1 && env", false},
        {"FOO=bar env", false},
        {"echo a # comment", false},
        {"exit 7", false},
        {"exec ./exit3", false},
        {"true --help", false},
        {"printf x", false},
        {"test -d sub", false},
        {"[ -f a.txt ]", false},
        {"kill -0 $$", false},
        {"umask", false},
        {"echo ~", false},
        {"(./exit3)", false},
        {"{ ./exit3; }", false},
        {"./args é", false},
    };
    ProcessSpec spec;
    spec.workdir = dir.path();
    for (const auto& [command, direct] : table) {
        INFO(command);
        CHECK(plain_command_words(command).has_value() == direct);
        spec.command = command;
        spec.via_shell = false;
        std::string ruled_out, shell_out;
        const ProcessResult ruled = run(spec, ruled_out);
        spec.via_shell = true;
        const ProcessResult shell = run(spec, shell_out);
        CHECK(ruled.end == shell.end);
        CHECK(ruled.exit_code == shell.exit_code);
        CHECK(sorted_lines(ruled_out) == sorted_lines(shell_out));
        fs::remove(dir.path() / "out.txt");
    }
    CHECK(table.size() >= 30);
}
