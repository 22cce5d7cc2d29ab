// Stage operations (DESIGN §4, stage semantics).
#include <algorithm>

#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline.hpp"
#include "depctl/rules.hpp"
#include "depctl/validate.hpp"

namespace depctl {
namespace {

void require_unique_stage(const Environment& env, const std::string& name, const Stage* self) {
    for (const auto& stage : env.stages) {
        if (&stage != self && iequals(stage.name, name)) {
            throw Error(ErrorKind::Refused,
                        "a stage named " + show_name(stage.name) +
                            " already exists in environment " + show_name(env.name),
                        "names are compared without regard to letter case");
        }
    }
}

std::string checked_description(std::string_view text) {
    std::string description = trim(text);
    const std::string problem = description_problem(description);
    if (!problem.empty()) throw Error(ErrorKind::Refused, "stage description " + problem);
    return description;
}

// Index at which a stage goes, counted in `stages` as it is when the call is made.
std::size_t insertion_index(const Environment& env, const Placement& where, const Stage* moving) {
    switch (where.kind) {
        case Placement::Kind::end:
            return env.stages.size();
        case Placement::Kind::position: {
            const int count = static_cast<int>(env.stages.size()) + (moving ? 0 : 1);
            if (where.position < 1 || where.position > count) {
                throw Error(ErrorKind::Refused,
                            "position " + std::to_string(where.position) + " is out of range",
                            "positions go from 1 to " + std::to_string(count));
            }
            return static_cast<std::size_t>(where.position - 1);
        }
        case Placement::Kind::before:
        case Placement::Kind::after: {
            const Stage& anchor = find_stage(env, where.stage);
            if (&anchor == moving) {
                throw Error(ErrorKind::Refused, "stage " + show_name(anchor.name) +
                                                    " cannot be placed relative to itself");
            }
            const std::size_t index = env.stage_index(anchor.id);
            return where.kind == Placement::Kind::before ? index : index + 1;
        }
    }
    return env.stages.size();
}

}  // namespace

Stage& create_stage(Environment& env, std::string_view name, std::string_view description,
                    const Placement& where) {
    Stage stage{new_id("stg_"), checked_name(name, "stage"), checked_description(description),
                std::nullopt};
    require_unique_stage(env, stage.name, nullptr);
    const std::size_t index = insertion_index(env, where, nullptr);
    return *env.stages.insert(env.stages.begin() + static_cast<std::ptrdiff_t>(index),
                              std::move(stage));
}

void edit_stage(Environment& env, std::string_view name, const std::optional<std::string>& new_name,
                const std::optional<std::string>& new_description) {
    Stage& stage = find_stage(env, name);
    if (!new_name && !new_description) {
        throw Error(ErrorKind::Usage, "nothing to change",
                    "pass --new-name, --new-description or --max-parallel");
    }
    if (new_name) {
        const std::string checked = checked_name(*new_name, "stage");
        require_unique_stage(env, checked, &stage);
        stage.name = checked;
    }
    if (new_description) stage.description = checked_description(*new_description);
}

void set_stage_max_parallel(Environment& env, std::string_view name, std::optional<int> cap) {
    Stage& stage = find_stage(env, name);
    if (cap && (*cap < 1 || *cap > k_max_parallelism)) {
        throw Error(ErrorKind::Refused, "max_parallel " + std::to_string(*cap) + " is out of range",
                    "1 to " + std::to_string(k_max_parallelism) + " services at a time");
    }
    stage.max_parallel = cap;
}

std::vector<std::string> delete_stage(Environment& env, std::string_view name,
                                      const std::optional<std::string>& move_services_to) {
    const Stage& stage = find_stage(env, name);
    const std::string id = stage.id;
    std::vector<std::string> held;
    for (const auto& service : env.services) {
        if (service.stage_id == id) held.push_back(service.name);
    }
    if (move_services_to)
        find_stage(env, *move_services_to);  // a typo is refused even when nothing moves
    if (!held.empty()) {
        if (!move_services_to) {
            std::string list;
            for (std::size_t i = 0; i < held.size(); ++i) list += (i ? ", " : "") + held[i];
            throw Error(
                ErrorKind::Refused,
                "stage " + show_name(stage.name) + " still holds " + std::to_string(held.size()) +
                    (held.size() == 1 ? " service (" : " services (") + list + ")",
                "move them with `depctl environment stage move` or pass --move-services-to STAGE");
        }
        const Stage& target = find_stage(env, *move_services_to);
        if (target.id == id) {
            throw Error(ErrorKind::Refused, "cannot move the services of stage " +
                                                show_name(stage.name) + " into itself");
        }
        for (auto& service : env.services) {
            if (service.stage_id == id) service.stage_id = target.id;
        }
    }
    std::erase_if(env.stages, [&](const Stage& s) { return s.id == id; });
    // A deleted default stops being one; new services of that type go to the last stage.
    std::erase_if(env.default_stages, [&](const auto& entry) { return entry.second == id; });
    validate_dependencies(env, ErrorKind::Refused);
    return held;
}

void reorder_stage(Environment& env, std::string_view name, const Placement& where) {
    Stage& stage = find_stage(env, name);
    const std::size_t from = env.stage_index(stage.id);
    std::size_t to = insertion_index(env, where, &stage);
    Stage moved = std::move(env.stages[from]);
    env.stages.erase(env.stages.begin() + static_cast<std::ptrdiff_t>(from));
    if (where.kind != Placement::Kind::position && to > from) --to;
    env.stages.insert(env.stages.begin() + static_cast<std::ptrdiff_t>(to), std::move(moved));
    validate_dependencies(env, ErrorKind::Refused);
}

const Stage& move_service(Environment& env, std::string_view service_name,
                          std::string_view stage_name) {
    Service& service = find_service(env, service_name);
    const Stage& stage = find_stage(env, stage_name);
    service.stage_id = stage.id;
    validate_dependencies(env, ErrorKind::Refused);
    return stage;
}

void set_skipped(Environment& env, std::string_view service_name, bool skipped) {
    find_service(env, service_name).skipped = skipped;
}

}  // namespace depctl
