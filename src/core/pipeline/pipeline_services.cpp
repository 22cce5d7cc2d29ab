// Service operations and the checks on every service option.
#include <algorithm>
#include <cmath>

#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline.hpp"
#include "depctl/rules.hpp"
#include "depctl/validate.hpp"

namespace depctl {
namespace {

[[noreturn]] void refuse(std::string what, std::string hint = {}) {
    throw Error(ErrorKind::Refused, std::move(what), std::move(hint));
}

void require_unique_service(const Environment& env, const std::string& name, const Service* self) {
    for (const auto& service : env.services) {
        if (&service != self && iequals(service.name, name)) {
            refuse("a service named " + show_name(service.name) +
                       " already exists in environment " + show_name(env.name),
                   "names are compared without regard to letter case");
        }
    }
}

std::string checked_text(const std::string& text, const char* what) {
    const std::string problem = command_problem(text);
    if (!problem.empty()) refuse(std::string(what) + " " + problem);
    return text;
}

std::string checked_variable(std::string_view key, const char* what) {
    if (!is_variable_name(key)) {
        refuse(std::string("invalid ") + what + " name " + show_name(key),
               "use letters, digits and _, not starting with a digit");
    }
    if (key.rfind("DEPCTL_", 0) == 0) {
        refuse(std::string(what) + " name " + show_name(key) + " is reserved",
               "DEPCTL_* variables are set by depctl");
    }
    return std::string(key);
}

// A --secret argument that is not KEY=env:VAR or KEY=file:PATH may be the secret value
// itself, pasted by mistake: its refusal never repeats what was given.
std::pair<std::string, std::string> split_assignment(const std::string& text, const char* flag,
                                                     bool may_be_secret = false) {
    const auto eq = text.find('=');
    if (eq == std::string::npos) {
        refuse(std::string(flag) + " " +
                   (may_be_secret ? "argument (not shown)" : show_name(text)) + " is not KEY=VALUE",
               may_be_secret ? "use --secret KEY=env:VARIABLE or --secret KEY=file:PATH" : "");
    }
    return {text.substr(0, eq), text.substr(eq + 1)};
}

void check_secret_source(const std::string& key, const std::string& source) {
    const bool env_prefix = source.rfind("env:", 0) == 0;
    if (!is_secret_source(source)) {
        // "env:" or "file:" with a bad rest is a typo worth showing; anything else is not.
        const bool recognisable = env_prefix || source.rfind("file:", 0) == 0;
        refuse("secret " + show_name(key) + " has an invalid source " +
                   (recognisable ? show_name(source)
                                 : std::string("(not shown: it may be the secret itself)")),
               "use --secret KEY=env:VARIABLE or --secret KEY=file:PATH");
    }
}

int checked_range(int value, int low, int high, const char* what) {
    if (value < low || value > high) {
        refuse(std::string(what) + " " + std::to_string(value) + " is out of range",
               "allowed: " + std::to_string(low) + " to " + std::to_string(high));
    }
    return value;
}

double checked_seconds(double value, const char* what) {
    if (!std::isfinite(value) || value <= 0 || value > k_max_timeout_s) {
        refuse(std::string(what) + " must be a positive number of seconds (at most 7 days)");
    }
    return value;
}

void check_url(const std::string& url) {
    if (!health_url_problem(url).empty()) {
        refuse("invalid health URL " + show_name(url),
               "expected http://HOST[:PORT]/PATH or https://...");
    }
}

void check_expect(const std::string& expect) {
    if (!health_expect_problem(expect).empty()) {
        refuse("invalid --health-expect " + show_name(expect),
               "expected a status or range such as 200-399");
    }
}

// The health check's changes, in the order of the flags; one check, HTTP or command.
void apply_health_changes(Service& s, const ServiceChanges& c) {
    if (c.health_http) {
        if (!c.health_http->empty()) check_url(*c.health_http);
        s.health.http = *c.health_http;
    }
    if (c.health_cmd) s.health.cmd = checked_text(*c.health_cmd, "health command");
    if (!s.health.http.empty() && !s.health.cmd.empty()) {
        refuse("service " + show_name(s.name) + " cannot have both --health-http and --health-cmd",
               "clear one with --health-http '' or --health-cmd ''");
    }
    if (c.health_attempts)
        s.health.attempts =
            checked_range(*c.health_attempts, 1, k_max_attempts, "--health-attempts");
    if (c.health_interval_s)
        s.health.interval_s = checked_seconds(*c.health_interval_s, "--health-interval");
    if (c.health_connect_timeout_s)
        s.health.connect_timeout_s =
            checked_seconds(*c.health_connect_timeout_s, "--health-connect-timeout");
    if (c.health_timeout_s)
        s.health.timeout_s = checked_seconds(*c.health_timeout_s, "--health-timeout");
    if (c.health_start_period_s)
        s.health.start_period_s =
            checked_seconds(*c.health_start_period_s, "--health-start-period");
    if (c.health_expect) {
        if (!c.health_expect->empty()) check_expect(*c.health_expect);
        s.health.expect = *c.health_expect;
    }
}

// Variables and secrets: unset before set, and no name both a variable and a secret.
void apply_variable_changes(Service& s, const ServiceChanges& c) {
    for (const auto& key : c.env_unset) {
        if (s.env.erase(key) == 0)
            refuse("service " + show_name(s.name) + " has no variable " + show_name(key));
    }
    for (const auto& assignment : c.env_set) {
        auto [key, value] = split_assignment(assignment, "--env");
        s.env[checked_variable(key, "variable")] = checked_text(value, "variable value");
    }
    for (const auto& key : c.secret_unset) {
        const auto removed =
            std::erase_if(s.secrets, [&](const SecretRef& r) { return r.key == key; });
        if (removed == 0)
            refuse("service " + show_name(s.name) + " has no secret " + show_name(key));
    }
    for (const auto& assignment : c.secret_set) {
        auto [key, source] = split_assignment(assignment, "--secret", true);
        checked_variable(key, "secret");
        check_secret_source(key, source);
        if (s.env.count(key))
            refuse("secret " + show_name(key) + " has the name of a plain variable of the service");
        // An init-capture: clang 14 (the fuzzing build) cannot capture a structured binding.
        std::erase_if(s.secrets, [&name = key](const SecretRef& r) { return r.key == name; });
        s.secrets.push_back({key, source});
    }
    for (const auto& [key, value] : s.env) {
        for (const auto& secret : s.secrets) {
            if (secret.key == key)
                refuse("variable " + show_name(key) + " is also a secret of service " +
                       show_name(s.name));
        }
    }
}

void apply_changes(Environment& env, Service& s, const ServiceChanges& c) {
    if (c.new_name) {
        const std::string name = checked_name(*c.new_name, "service");
        require_unique_service(env, name, &s);
        s.name = name;
    }
    if (c.type) s.type = *c.type;
    if (c.stage) s.stage_id = find_stage(env, *c.stage).id;
    if (c.workdir) s.workdir = checked_text(*c.workdir, "workdir");
    if (c.build) s.build = checked_text(*c.build, "build command");
    if (c.release) s.release = checked_text(*c.release, "release command");
    if (c.deploy) s.deploy = checked_text(*c.deploy, "deploy command");
    if (c.stop) s.stop = checked_text(*c.stop, "stop command");
    apply_health_changes(s, c);
    if (c.build_timeout_s)
        s.build_timeout_s =
            checked_range(*c.build_timeout_s, 1, k_max_timeout_s, "--build-timeout");
    if (c.deploy_timeout_s)
        s.deploy_timeout_s =
            checked_range(*c.deploy_timeout_s, 1, k_max_timeout_s, "--deploy-timeout");
    if (c.retries) s.retries = checked_range(*c.retries, 0, k_max_retries, "--retries");
    if (c.version_from) s.version_from = *c.version_from;
    apply_variable_changes(s, c);
}

}  // namespace

bool ServiceChanges::empty() const {
    return !new_name && !type && !stage && !workdir && !build && !release && !deploy && !stop &&
           !health_http && !health_cmd && !health_attempts && !health_interval_s &&
           !health_connect_timeout_s && !health_timeout_s && !health_expect &&
           !health_start_period_s && !build_timeout_s && !deploy_timeout_s && !retries &&
           !version_from && env_set.empty() && env_unset.empty() && secret_set.empty() &&
           secret_unset.empty();
}

Service& create_service(Environment& env, std::string_view name, ServiceType type,
                        const ServiceChanges& options, NameCheck check) {
    Service service;
    service.id = new_id("svc_");
    service.name = checked_name(name, "service");
    service.type = type;
    if (check == NameCheck::scan) require_unique_service(env, service.name, nullptr);
    service.stage_id = default_stage_for(env, type).id;
    env.services.push_back(std::move(service));
    Service& stored = env.services.back();
    apply_changes(env, stored, options);
    return stored;
}

void edit_service(Environment& env, std::string_view name, const ServiceChanges& changes) {
    Service& service = find_service(env, name);
    if (changes.empty())
        throw Error(ErrorKind::Usage, "nothing to change", "see `depctl service edit --help`");
    apply_changes(env, service, changes);
    validate_dependencies(env, ErrorKind::Refused);
}

void delete_service(Environment& env, std::string_view name) {
    const Service& service = find_service(env, name);
    const auto dependents = dependents_of(env, service.id);
    if (!dependents.empty()) {
        std::string list;
        for (std::size_t i = 0; i < dependents.size(); ++i) list += (i ? ", " : "") + dependents[i];
        refuse("service " + show_name(service.name) + " is a dependency of " + list,
               "remove those edges first with `depctl service undepend NAME --on " +
                   show_name(service.name) + "`");
    }
    const std::string id = service.id;
    std::erase_if(env.services, [&](const Service& s) { return s.id == id; });
}

void add_dependency(Environment& env, std::string_view service_name, std::string_view on,
                    EdgeCondition condition) {
    Service& service = find_service(env, service_name);
    const Service& other = find_service(env, on);
    const auto existing = std::find_if(service.depends_on.begin(), service.depends_on.end(),
                                       [&](const Dependency& dep) { return dep.id == other.id; });
    if (existing == service.depends_on.end()) {
        service.depends_on.push_back({other.id, condition});
    } else if (existing->condition != condition) {
        existing->condition = condition;  // a new condition for the same edge: an edit
    } else {
        refuse("service " + show_name(service.name) + " already depends on " +
               show_name(other.name) + " (" + std::string(to_string(condition)) + ")");
    }
    validate_dependencies(env, ErrorKind::Refused);
}

void remove_dependency(Environment& env, std::string_view service_name, std::string_view on) {
    Service& service = find_service(env, service_name);
    const Service& other = find_service(env, on);
    if (std::erase_if(service.depends_on,
                      [&](const Dependency& dep) { return dep.id == other.id; }) == 0) {
        refuse("service " + show_name(service.name) + " does not depend on " +
               show_name(other.name));
    }
}

}  // namespace depctl
