// `deployment explain` as JSON for scripts and as text for people.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/status.hpp"
#include "depctl/timeline.hpp"

namespace depctl {
namespace {

std::string secs(long long ms) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2fs", static_cast<double>(ms) / 1000.0);
    return buffer;
}

nlohmann::json wait_json(const Wait& w) {
    nlohmann::json j = {{"kind", to_string(w.kind)},
                        {"from_ms", w.from_ms},
                        {"until_ms", w.until_ms},
                        {"ms", w.ms()}};
    if (!w.what.empty()) j["what"] = w.what;
    if (!w.condition.empty()) j["condition"] = w.condition;
    return j;
}

std::string wait_text(const Wait& w) {
    switch (w.kind) {
        case WaitKind::start:
            return "the start";
        case WaitKind::step:
            return "its " + w.what;
        case WaitKind::stage:
            return "stage " + show_name(w.what);
        case WaitKind::dependency:
            return "dependency " + w.what + " (" + w.condition + ")";
        case WaitKind::worker:
            return "a free worker";
    }
    return {};
}

std::string step_name(const DeploymentTimeline& t, StepRef ref) {
    return t.services[ref.service].name + "/" + t.services[ref.service].steps[ref.step].step;
}

std::set<std::pair<std::size_t, std::size_t>> critical_set(const Explanation& e) {
    std::set<std::pair<std::size_t, std::size_t>> out;
    for (const auto& link : e.critical_path) out.insert({link.ref.service, link.ref.step});
    return out;
}

void check_service(const DeploymentTimeline& t, const std::string& only) {
    if (only.empty()) return;
    std::vector<std::string> names;
    for (const auto& s : t.services) {
        if (s.name == only) return;
        names.push_back(s.name);
    }
    const std::string hint = suggestion_hint(only, names);
    throw Error(ErrorKind::Refused,
                "service " + show_name(only) + " is not part of deployment " + t.id,
                hint.empty() ? "see `depctl deployment show " + t.id + "`" : hint);
}

// Green for a good end, yellow for what did not run, red for the rest. The text is a
// deployment's or a step's status (explain shows both), so both tables are asked.
const char* status_color(const std::string& status) {
    const auto step = parse_step_status(status);
    const auto deployment = parse_deployment_status(status);
    if ((step && step_succeeded(*step)) || deployment == DeploymentStatus::deployed) return "32";
    if (step == StepStatus::canceled || step == StepStatus::not_started ||
        deployment == DeploymentStatus::canceled)
        return "33";
    return "31";
}

}  // namespace

nlohmann::json explanation_to_json(const DeploymentTimeline& t, const Explanation& e,
                                   const std::string& only) {
    check_service(t, only);
    const auto critical = critical_set(e);
    nlohmann::json steps = nlohmann::json::array();
    for (const StepExplanation& x : e.steps) {
        const TimelineService& svc = t.services[x.ref.service];
        if (!only.empty() && svc.name != only) continue;
        const TimelineStep& step = svc.steps[x.ref.step];
        nlohmann::json waits = nlohmann::json::array();
        for (const Wait& w : x.waits) waits.push_back(wait_json(w));
        steps.push_back({{"service", svc.name},
                         {"stage", t.stages[svc.stage].name},
                         {"step", step.step},
                         {"status", step.status},
                         {"start_ms", step.start_ms},
                         {"duration_ms", step.duration_ms},
                         {"end_ms", step.end_ms()},
                         {"ready_ms", x.ready_ms},
                         {"critical", critical.count({x.ref.service, x.ref.step}) > 0},
                         {"waits", waits}});
    }
    nlohmann::json chain = nlohmann::json::array();
    for (const CriticalLink& link : e.critical_path) {
        const TimelineStep& step = t.services[link.ref.service].steps[link.ref.step];
        chain.push_back({{"service", t.services[link.ref.service].name},
                         {"step", step.step},
                         {"start_ms", step.start_ms},
                         {"duration_ms", step.duration_ms},
                         {"via", wait_json(link.via)}});
    }
    return {{"deployment", t.id},
            {"environment", t.environment},
            {"status", t.status},
            {"duration_ms", t.duration_ms},
            {"steps", steps},
            {"critical_path", {{"end_ms", e.critical_ms}, {"steps", chain}}},
            {"pool",
             {{"parallelism", e.pool.parallelism},
              {"wall_ms", e.pool.wall_ms},
              {"busy_ms", e.pool.busy_ms},
              {"idle_ms", e.pool.idle_ms}}}};
}

std::string explanation_text(const DeploymentTimeline& t, const Explanation& e,
                             const std::string& only, bool color) {
    check_service(t, only);
    const auto paint = [color](const std::string& text, const char* code) {
        return color ? "\x1b[" + std::string(code) + "m" + text + "\x1b[0m" : text;
    };
    std::string out = "Deployment " + t.id + " of " + show_name(t.environment) + ": " +
                      paint(t.status, status_color(t.status)) + " in " + secs(t.duration_ms) +
                      ", " + std::to_string(t.parallelism) + " workers\n\n";
    out += paint("Critical path", "1") + " (ends at +" + secs(e.critical_ms) + "):\n";
    for (std::size_t k = 0; k < e.critical_path.size(); ++k) {
        const CriticalLink& link = e.critical_path[k];
        const TimelineStep& step = t.services[link.ref.service].steps[link.ref.step];
        out += "  " + std::string(k == 0 ? "  " : "→ ") + step_name(t, link.ref) + " " +
               secs(step.duration_ms) + " (+" + secs(step.start_ms) + ")";
        if (k > 0) out += "  after " + wait_text(link.via);
        out += "\n";
    }
    out += "\nSteps (start, duration, what each waited for):\n";
    const auto critical = critical_set(e);
    for (const StepExplanation& x : e.steps) {
        const TimelineService& svc = t.services[x.ref.service];
        if (!only.empty() && svc.name != only) continue;
        const TimelineStep& step = svc.steps[x.ref.step];
        std::string waits;
        for (const Wait& w : x.waits) {
            if (w.ms() <= 0) continue;
            waits +=
                (waits.empty() ? "waited " : ", then ") + secs(w.ms()) + " for " + wait_text(w);
        }
        const bool on_path = critical.count({x.ref.service, x.ref.step}) > 0;
        out += std::string(on_path ? "* " : "  ") + step_name(t, x.ref) + "  +" +
               secs(step.start_ms) + "  " + secs(step.duration_ms) + "  " +
               paint(step.status, status_color(step.status)) + "  " +
               (waits.empty() ? "started at once" : waits) + "\n";
    }
    out += "  (* on the critical path)\n\n";
    const long long capacity = e.pool.wall_ms * e.pool.parallelism;
    const long long percent = capacity ? e.pool.idle_ms * 100 / capacity : 0;
    out += "Pool: " + std::to_string(e.pool.parallelism) + " workers over " + secs(e.pool.wall_ms) +
           ": busy " + secs(e.pool.busy_ms) + ", idle " + secs(e.pool.idle_ms) + " (" +
           std::to_string(percent) + "%)\n";
    return out;
}

}  // namespace depctl
