// `environment stage list/create/edit/delete/move/reorder/skip/unskip`.
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "depctl/context.hpp"
#include "depctl/error.hpp"
#include "depctl/names.hpp"
#include "depctl/pipeline.hpp"
#include "depctl/rules.hpp"
#include "depctl/views.hpp"
#include "file_support.hpp"
#include "table.hpp"

namespace depctl::cli {
namespace {

// The seed's format: "# deployment stage N: "NAME"", description, then the table.
std::string render_stage_list(const Environment& env) {
    std::string out;
    for (std::size_t i = 0; i < env.stages.size(); ++i) {
        const Stage& stage = env.stages[i];
        if (i > 0) out += "\n\n";
        out += "# deployment stage " + std::to_string(i + 1) + ": \"" + stage.name + "\"";
        if (stage.max_parallel)
            out += " (at most " + std::to_string(*stage.max_parallel) + " at a time)";
        out += "\n";
        // As in the seed, a stage without a description has one blank line, not two.
        out += stage.description.empty() ? "\n" : stage.description + "\n\n";
        std::vector<std::vector<std::string>> rows;
        for (const auto& s : env.services) {
            if (s.stage_id == stage.id)
                rows.push_back(
                    {std::string(to_string(s.type)), s.name + (s.skipped ? " (skipped)" : "")});
        }
        out += rows.empty() ? "<no service>\n" : render_table({"Type", "Name"}, rows);
    }
    if (env.stages.empty()) out += "<no stage>\n";
    return out;
}

// `stage create` has no --position; `stage reorder` has (with_position).
Placement placement_from(const std::string& before, const std::string& after,
                         std::optional<int> position, bool with_position) {
    const int given = (!before.empty()) + (!after.empty()) + position.has_value();
    if (given > 1) {
        throw Error(ErrorKind::Usage, with_position
                                          ? "give only one of --before, --after and --position"
                                          : "give only one of --before and --after");
    }
    if (!before.empty()) return {Placement::Kind::before, before, 0};
    if (!after.empty()) return {Placement::Kind::after, after, 0};
    if (position) return {Placement::Kind::position, {}, *position};
    return {};
}

struct StageArgs {
    std::string name;
    std::string description;
    std::string stage;
    std::string before;
    std::string after;
    std::optional<int> position;
    std::optional<std::string> new_name;
    std::optional<std::string> new_description;
    std::optional<std::string> move_to;
    std::optional<int> max_parallel;
};

// --max-parallel N: a cap of N services rolling out at once; 0 removes the cap.
void add_max_parallel(CLI::App& cmd, StageArgs& args) {
    cmd.add_option_function<int>(
           "--max-parallel", [&args](int n) { args.max_parallel = n; },
           "At most N of the stage's services in release/deploy/health at once, 1 to 1024 (0 "
           "removes the cap)")
        ->check(CLI::Range(0, k_max_parallelism).description(""))
        ->type_name("N");
}

std::optional<int> cap_of(int n) {
    return n == 0 ? std::nullopt : std::optional<int>(n);
}

// Runs a stage mutation on the selected environment and prints `message` (or the stage list as
// JSON).
int mutate(Invocation& inv, const std::function<std::string(Environment&)>& change) {
    auto store = open_state(inv.options);
    std::string env_id;
    std::string message;
    const State state = store->transact([&](State& s) {
        Environment& env = selected_environment(s, inv.options);
        env_id = env.id;
        message = change(env);
    });
    warn_if_file_managed(inv.options, state);
    if (json_output(inv.options)) {
        print_json(stage_list_view(*state.find_environment_by_id(env_id)));
    } else {
        say(inv.options, message);
    }
    return 0;
}

}  // namespace

void register_stage(CLI::App& environment, Invocation& inv) {
    auto* cmd =
        environment.add_subcommand("stage", "Manage the deployment stages of an environment");
    cmd->require_subcommand(1);
    set_examples(*cmd,
                 "  depctl environment stage list\n  depctl environment stage move -n Backend -s "
                 "\"third stage\"");
    auto args = std::make_shared<StageArgs>();

    auto* list = cmd->add_subcommand("list", "List stages in deployment order with their services");
    add_json_flag(*list, inv.options);
    set_examples(
        *list,
        "  depctl environment stage list\n  depctl environment stage list -e staging --json");
    on_run(*list, inv, [&inv] {
        auto store = open_state(inv.options);
        const State state = store->load();
        const Environment& env = select_environment(state, inv.options.environment);
        if (json_output(inv.options)) {
            print_json(stage_list_view(env));
        } else {
            std::cout << render_stage_list(env);
        }
        return 0;
    });

    auto* create =
        cmd->add_subcommand("create", "Add a stage (at the end unless --before/--after)");
    create->add_option("-n,--name", args->name, "Name of the new stage")
        ->required()
        ->type_name("NAME");
    create
        ->add_option("-d,--description", args->description,
                     "Stage description (at most 1000 bytes)")
        ->type_name("TEXT");
    create->add_option("--before", args->before, "Insert before this stage")->type_name("STAGE");
    create->add_option("--after", args->after, "Insert after this stage")->type_name("STAGE");
    add_max_parallel(*create, *args);
    set_examples(*create,
                 "  depctl environment stage create -n \"fifth stage\" -d \"workers\"\n"
                 "  depctl environment stage create -n migrations --before \"second stage\"");
    on_run(*create, inv, [&inv, args] {
        const Placement where = placement_from(args->before, args->after, std::nullopt, false);
        return mutate(inv, [&](Environment& env) {
            const Stage& stage = create_stage(env, args->name, args->description, where);
            if (args->max_parallel)
                set_stage_max_parallel(env, stage.name, cap_of(*args->max_parallel));
            return "Stage " + show_name(stage.name) + " created at position " +
                   std::to_string(env.stage_index(stage.id) + 1);
        });
    });

    auto* edit =
        cmd->add_subcommand("edit", "Rename a stage, change its description or its parallel cap");
    edit->add_option("-n,--name", args->name, "Stage to change")->required()->type_name("STAGE");
    edit->add_option_function<std::string>(
            "--new-name", [args](const std::string& v) { args->new_name = v; }, "New name")
        ->type_name("NAME");
    edit->add_option_function<std::string>(
            "--new-description", [args](const std::string& v) { args->new_description = v; },
            "New description (\"\" clears it)")
        ->type_name("TEXT");
    add_max_parallel(*edit, *args);
    set_examples(
        *edit,
        "  depctl environment stage edit -n \"DATABASE DEFAULT\" --new-name \"first stage\"\n"
        "  depctl environment stage edit -n migrations --max-parallel 1");
    on_run(*edit, inv, [&inv, args] {
        return mutate(inv, [&](Environment& env) {
            if (args->max_parallel) {
                set_stage_max_parallel(env, args->name, cap_of(*args->max_parallel));
                if (!args->new_name && !args->new_description)
                    return std::string("Stage updated successfully");
            }
            edit_stage(env, args->name, args->new_name, args->new_description);
            return std::string("Stage updated successfully");
        });
    });

    auto* del = cmd->add_subcommand("delete", "Delete a stage; refused while it holds services");
    del->add_option("-n,--name", args->name, "Stage to delete")->required()->type_name("STAGE");
    del->add_option_function<std::string>(
           "--move-services-to", [args](const std::string& v) { args->move_to = v; },
           "Move the stage's services here first")
        ->type_name("STAGE");
    set_examples(*del,
                 "  depctl environment stage delete -n \"fifth stage\"\n"
                 "  depctl environment stage delete -n legacy --move-services-to \"fourth stage\"");
    on_run(*del, inv, [&inv, args] {
        return mutate(inv, [&](Environment& env) {
            const std::string name = find_stage(env, args->name).name;
            const auto moved = delete_stage(env, args->name, args->move_to);
            std::string message = "Stage " + show_name(name) + " deleted";
            if (!moved.empty()) {
                message += "; " + std::to_string(moved.size()) +
                           (moved.size() == 1 ? " service" : " services") + " moved to " +
                           show_name(find_stage(env, *args->move_to).name);
            }
            return message;
        });
    });

    auto* move = cmd->add_subcommand("move", "Move a service into a stage");
    move->add_option("-n,--name", args->name, "Service to move")->required()->type_name("SERVICE");
    move->add_option("-s,--stage", args->stage, "Stage to move it into")
        ->required()
        ->type_name("STAGE");
    set_examples(*move, "  depctl environment stage move -n Backend -s \"third stage\"");
    on_run(*move, inv, [&inv, args] {
        return mutate(inv, [&](Environment& env) {
            const Stage& stage = move_service(env, args->name, args->stage);
            return "Service " + show_name(find_service(env, args->name).name) +
                   " moved into stage " + show_name(stage.name);
        });
    });

    auto* reorder = cmd->add_subcommand("reorder", "Move a stage to another place in the pipeline");
    reorder->add_option("-n,--name", args->name, "Stage to move")->required()->type_name("STAGE");
    auto* before = reorder->add_option("--before", args->before, "Place it before this stage")
                       ->type_name("STAGE");
    auto* after = reorder->add_option("--after", args->after, "Place it after this stage")
                      ->type_name("STAGE");
    auto* position = reorder
                         ->add_option_function<int>(
                             "--position", [args](const int& v) { args->position = v; },
                             "Place it at this 1-based position")
                         ->type_name("N");
    before->excludes(after)->excludes(position);
    after->excludes(position);
    set_examples(*reorder,
                 "  depctl environment stage reorder -n migrations --before \"first stage\"\n"
                 "  depctl environment stage reorder -n workers --position 2");
    on_run(*reorder, inv, [&inv, args] {
        const Placement where = placement_from(args->before, args->after, args->position, true);
        if (where.kind == Placement::Kind::end) {
            throw Error(ErrorKind::Usage, "reorder needs one of --before, --after or --position");
        }
        return mutate(inv, [&](Environment& env) {
            reorder_stage(env, args->name, where);
            const Stage& stage = find_stage(env, args->name);
            return "Stage " + show_name(stage.name) + " is now at position " +
                   std::to_string(env.stage_index(stage.id) + 1);
        });
    });

    for (const bool skip : {true, false}) {
        auto* toggle = cmd->add_subcommand(
            skip ? "skip" : "unskip",
            skip ? "Leave a service out of deployments" : "Deploy a skipped service again");
        toggle
            ->add_option("-n,--name", args->name,
                         skip ? "Service to skip" : "Service to deploy again")
            ->required()
            ->type_name("SERVICE");
        set_examples(*toggle, std::string("  depctl environment stage ") +
                                  (skip ? "skip" : "unskip") + " -n Frontend");
        on_run(*toggle, inv, [&inv, args, skip] {
            return mutate(inv, [&](Environment& env) {
                set_skipped(env, args->name, skip);
                return "Service " + show_name(find_service(env, args->name).name) +
                       (skip ? " will be skipped by deployments" : " will be deployed again");
            });
        });
    }
}

}  // namespace depctl::cli
