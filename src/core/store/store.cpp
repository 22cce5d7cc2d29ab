// The parts shared by every backend: lock holders, timestamps, finding the state.
#include "depctl/store.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "depctl/error.hpp"

namespace depctl {
namespace fs = std::filesystem;

std::string now_iso8601() {
    const auto now = std::chrono::system_clock::now();
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
    char out[40];
    std::snprintf(out, sizeof out, "%s.%03dZ", buffer, static_cast<int>(millis));
    return out;
}

LockHolder LockHolder::current_process(std::string operation) {
    LockHolder holder;
    if (const char* user = std::getenv("USER"); user && *user) {
        holder.user = user;
    } else if (const passwd* entry = ::getpwuid(::getuid())) {
        holder.user = entry->pw_name;
    } else {
        holder.user = std::to_string(::getuid());
    }
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0) holder.host = host;
    holder.pid = static_cast<int>(::getpid());
    holder.since = now_iso8601();
    holder.operation = std::move(operation);
    return holder;
}

std::string LockHolder::describe() const {
    std::string out = user + "@" + host + " (pid " + std::to_string(pid);
    if (!operation.empty()) out += ", " + operation;
    if (!deployment_id.empty()) out += " " + deployment_id;
    if (!since.empty()) out += " since " + since;
    return out + ")";
}

nlohmann::json LockHolder::to_json() const {
    return {{"user", user},
            {"host", host},
            {"pid", pid},
            {"since", since},
            {"deployment_id", deployment_id},
            {"operation", operation}};
}

LockHolder LockHolder::from_json(const nlohmann::json& j) {
    LockHolder holder;
    holder.user = j.value("user", "");
    holder.host = j.value("host", "");
    holder.pid = j.value("pid", 0);
    holder.since = j.value("since", "");
    holder.deployment_id = j.value("deployment_id", "");
    holder.operation = j.value("operation", "");
    return holder;
}

std::string resolve_state_location(const std::optional<std::string>& flag, const fs::path& cwd,
                                   bool for_init) {
    if (flag && !flag->empty()) return *flag;
    if (const char* from_env = std::getenv("DEPCTL_STATE"); from_env && *from_env) return from_env;
    if (for_init) return (cwd / ".depctl" / "state.json").string();
    for (fs::path dir = cwd;; dir = dir.parent_path()) {
        const fs::path candidate = dir / ".depctl" / "state.json";
        std::error_code error;
        if (fs::exists(candidate, error)) return candidate.string();
        // A .depctl/ that cannot be searched is this directory's project, unreadable: never
        // a reason to walk on to a parent's project (DESIGN §2).
        if (error && error != std::errc::no_such_file_or_directory &&
            error != std::errc::not_a_directory) {
            throw Error(ErrorKind::Io, "cannot read " + candidate.string() + ": " + error.message(),
                        "check the permissions of " + (dir / ".depctl").string());
        }
        if (dir == dir.root_path() || dir.parent_path() == dir) break;
    }
    throw Error(ErrorKind::NotFound,
                "no depctl state found in " + cwd.string() + " or any parent directory",
                "run `depctl init` here, or point --state / DEPCTL_STATE at a state file");
}

}  // namespace depctl
