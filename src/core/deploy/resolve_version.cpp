// The version a deploy runs when none is rolled back to (DESIGN §5).
#include <cstdlib>

#include "depctl/deploy.hpp"
#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/rules.hpp"
#include "util/process.hpp"

namespace depctl {
namespace fs = std::filesystem;

std::string resolve_version(const std::optional<std::string>& explicit_version,
                            const fs::path& project_dir) {
    if (explicit_version) {
        const std::string version = trim(*explicit_version);
        // The version lands in the state, the history and every step's environment: text only.
        if (!version_problem(version).empty()) {
            throw Error(ErrorKind::Refused, "invalid version " + show_name(*explicit_version));
        }
        return version;
    }
    if (const char* from_env = std::getenv("DEPCTL_VERSION"); from_env && *from_env) {
        return resolve_version(std::string(from_env), project_dir);
    }
    std::string output;
    ProcessSpec git{"git rev-parse HEAD",
                    project_dir,
                    {},
                    std::chrono::milliseconds(10000),
                    std::chrono::milliseconds(1000),
                    {}};
    const ProcessResult result = run_process(
        git, [&](std::string_view chunk) { output.append(chunk); }, nullptr);
    const std::string head = trim(output);
    if (result.end == ProcessEnd::exited && result.exit_code == 0 && head.size() == 40) return head;
    throw Error(
        ErrorKind::Refused, "cannot tell which version to deploy",
        "pass --version V, set DEPCTL_VERSION, or run inside a git repository with a commit");
}

}  // namespace depctl
