#include "depctl/context.hpp"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline.hpp"
#include "util/files.hpp"

namespace depctl {
namespace fs = std::filesystem;

fs::path context_file() {
    if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
        return fs::path(xdg) / "depctl" / "context.json";
    if (const char* home = std::getenv("HOME"); home && *home)
        return fs::path(home) / ".config" / "depctl" / "context.json";
    throw Error(ErrorKind::Io, "cannot locate the user's config directory",
                "set HOME or XDG_CONFIG_HOME");
}

namespace {

nlohmann::json read_context() {
    std::optional<std::string> text;
    try {
        text = read_file(context_file(), 1 << 20, Links::follow);  // dotfiles may be links
    } catch (const Error&) {
        return nlohmann::json::object();  // no config directory: simply no remembered context
    } catch (const util::Error&) {
        return nlohmann::json::object();  // unreadable: no remembered context either
    }
    if (!text) return nlohmann::json::object();
    auto doc = nlohmann::json::parse(*text, nullptr, false);
    // A damaged context file only loses the remembered choice; it never blocks a command.
    if (doc.is_discarded() || !doc.is_object()) return nlohmann::json::object();
    return doc;
}

}  // namespace

std::optional<std::string> context_environment(const std::string& project_id) {
    const auto doc = read_context();
    const auto projects = doc.find("projects");
    if (projects == doc.end() || !projects->is_object()) return std::nullopt;
    const auto entry = projects->find(project_id);
    if (entry == projects->end() || !entry->is_object()) return std::nullopt;
    const auto env = entry->find("environment_id");
    if (env == entry->end() || !env->is_string()) return std::nullopt;
    return env->get<std::string>();
}

void set_context_environment(const std::string& project_id, const std::string& environment_id) {
    auto doc = read_context();
    if (!doc.contains("projects") || !doc["projects"].is_object())
        doc["projects"] = nlohmann::json::object();
    doc["projects"][project_id] = {{"environment_id", environment_id}};
    const fs::path path = context_file();
    ensure_directory(path.parent_path());
    write_file_atomic(path, doc.dump(2) + "\n");
}

const Environment& select_environment(const State& state, const std::string& explicit_name) {
    if (!explicit_name.empty()) return find_environment(state, explicit_name);
    if (const char* from_env = std::getenv("DEPCTL_ENVIRONMENT"); from_env && *from_env) {
        return find_environment(state, from_env);
    }
    if (const auto id = context_environment(state.project.id)) {
        if (const Environment* env = state.find_environment_by_id(*id)) return *env;
    }
    std::string hint =
        "pass -e ENVIRONMENT, set DEPCTL_ENVIRONMENT, or run `depctl context set -e ENVIRONMENT`";
    if (state.environments.empty()) hint = "create one first with `depctl environment create NAME`";
    throw Error(ErrorKind::Refused, "no environment selected", hint);
}

}  // namespace depctl
