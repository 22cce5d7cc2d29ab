#include "core/deploy/service_versions.hpp"

#include <chrono>
#include <vector>

#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "util/process.hpp"

namespace depctl {
namespace fs = std::filesystem;
namespace {

// The tree hashes are this long in the version: as `git log --oneline` abbreviates, long
// enough to never collide within one repository's history of a directory.
constexpr std::size_t k_version_length = 12;
constexpr const char* k_marker = "--- depctl trees";

std::string shell_quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// A workdir as git sees it from the project directory: "./" or "../" relative, which
// `TREE:PATH` resolves against the current directory.
std::string relative_dir(const Service& s, const fs::path& project_dir) {
    fs::path dir = s.workdir.empty() ? project_dir : fs::path(s.workdir);
    if (dir.is_relative()) dir = project_dir / dir;
    const fs::path rel = dir.lexically_normal().lexically_relative(project_dir.lexically_normal());
    const std::string text = rel.empty() ? std::string(".") : rel.generic_string();
    return text.rfind("..", 0) == 0 ? text : "./" + text;
}

// One shell: a copy of the index (the user's is never touched), every workdir added to it as
// it is on disk (but .depctl: its logs and state change with every deploy), one tree
// written, then each workdir's tree hash, one per line.
std::string tree_script(const std::vector<std::string>& dirs) {
    std::string add;
    std::string trees;
    for (const auto& dir : dirs) {
        add += " " + shell_quoted(dir);
        trees += " \"$tree\":" + shell_quoted(dir);
    }
    return "set -e\n"
           "index=$(git rev-parse --git-path index)\n"
           "tmp=$(mktemp \"${TMPDIR:-/tmp}/depctl-index.XXXXXX\")\n"
           "trap 'rm -f \"$tmp\"' EXIT\n"
           "if [ -f \"$index\" ]; then cp \"$index\" \"$tmp\"; else rm -f \"$tmp\"; fi\n"
           // An index dated 1970-01-01T00:00:01 (0 switches the check off) makes every entry
           // "racily clean", so git compares contents, not stat data: a same-size edit within
           // the file system's timestamp granularity was missed in 7 of 15 runs of the test.
           "[ ! -f \"$tmp\" ] || touch -d @1 \"$tmp\"\n"
           "GIT_INDEX_FILE=$tmp git add -A --" +
           add +
           " ':(exclude).depctl'\n"
           "tree=$(GIT_INDEX_FILE=$tmp git write-tree)\n"
           "echo '" +
           std::string(k_marker) + "'\ngit rev-parse" + trees + "\n";
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        out.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

bool is_hash(const std::string& line) {
    return line.size() == 40 && line.find_first_not_of("0123456789abcdef") == std::string::npos;
}

[[noreturn]] void refuse(const Service& s, const std::string& why) {
    throw Error(
        ErrorKind::Refused,
        "cannot take the version of service " + show_name(s.name) + " from its git tree: " + why,
        "run inside a git work tree, give the service a workdir with files in it, or "
        "set `version_from: project` (service edit --version-from project)");
}

}  // namespace

std::map<std::string, std::string> git_tree_versions(const Environment& env,
                                                     const fs::path& project_dir) {
    std::vector<std::string> dirs;  // unique, in the order services name them
    std::map<std::string, std::size_t> dir_index;
    std::vector<std::pair<const Service*, std::size_t>> wanted;
    for (const Service& s : env.services) {
        if (s.version_from != VersionFrom::git_tree) continue;
        const std::string dir = relative_dir(s, project_dir);
        const auto [it, added] = dir_index.emplace(dir, dirs.size());
        if (added) dirs.push_back(dir);
        wanted.emplace_back(&s, it->second);
    }
    if (wanted.empty()) return {};
    for (const auto& [s, index] : wanted) {
        std::error_code ec;
        if (!fs::is_directory(project_dir / dirs[index], ec))
            refuse(*s, "its workdir " + show_name(s->workdir.empty() ? "." : s->workdir) +
                           " is not a directory");
    }
    std::string output;
    ProcessSpec git{tree_script(dirs),       project_dir,
                    {{"LC_ALL", "C"}},       std::chrono::seconds(60),
                    std::chrono::seconds(1), {}};
    git.via_shell = true;
    const ProcessResult result = run_process(
        git, [&](std::string_view chunk) { output.append(chunk); }, nullptr);
    const std::vector<std::string> lines = lines_of(output);
    std::size_t first = lines.size();
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (lines[i] == k_marker) first = i + 1;
    std::vector<std::string> hashes;
    for (std::size_t i = first; i < lines.size() && is_hash(lines[i]); ++i)
        hashes.push_back(lines[i]);
    if (hashes.size() < dirs.size()) {
        const bool listed = first < lines.size() || result.exit_code == 0;
        for (const auto& [s, index] : wanted) {
            if (index < hashes.size()) continue;
            if (listed) refuse(*s, "git has no file in its workdir " + show_name(dirs[index]));
            const std::string said = lines.empty() ? result.error : lines.back();
            refuse(*s, said.empty() ? "git failed" : said);
        }
    }
    std::map<std::string, std::string> versions;
    for (const auto& [s, index] : wanted)
        versions.emplace(s->id, hashes[index].substr(0, k_version_length));
    return versions;
}

}  // namespace depctl
