// `environment graph`, `deployment timeline` and `deployment explain` (DESIGN §10).
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "depctl/context.hpp"
#include "depctl/error.hpp"
#include "depctl/history.hpp"
#include "depctl/render.hpp"
#include "util/files.hpp"

namespace depctl::cli {
namespace {

struct PictureArgs {
    std::string id;
    std::string format;
    std::string file;
    std::string service;
};

bool use_color(const Options& options) {
    return !options.no_color && !std::getenv("NO_COLOR") && ::isatty(STDOUT_FILENO);
}

// The picture goes to stdout, or atomically to -o FILE (a half-written SVG is worse than
// none), world-readable since it is meant to be shared.
void emit(const Options& options, const std::string& file, const std::string& bytes) {
    if (file.empty() || file == "-") {
        std::cout << bytes;
        return;
    }
    write_file_atomic(file, bytes, 0644);
    say(options, "Wrote " + file);
}

CLI::App& find_group(CLI::App& app, const std::string& name) {
    CLI::App* group = app.get_subcommand(name);
    if (!group) throw std::logic_error("command group " + name + " is not registered");
    return *group;
}

void add_deployment_id(CLI::App& command, std::string& id) {
    command.add_option("id", id, "Deployment id, a unique prefix of it, or `latest`")
        ->required()
        ->type_name("DEPLOYMENT|latest");
}

}  // namespace

DeploymentRecord load_deployment(StateStore& store, const State& state, const Options& options,
                                 const std::string& id) {
    if (id != "latest") return find_deployment(store, state, id);
    const Environment& env = select_environment(state, options.environment);
    const auto newest = list_deployments(store, env, {1, {}});
    if (newest.empty())
        throw Error(ErrorKind::Refused, "environment \"" + env.name + "\" has no deployment yet",
                    "deploy it with `depctl environment deploy`");
    return newest.front();
}

void register_pictures(CLI::App& app, Invocation& inv) {
    auto args = std::make_shared<PictureArgs>();

    auto* graph = find_group(app, "environment")
                      .add_subcommand("graph",
                                      "Draw the pipeline: stages, services, steps, "
                                      "dependencies");
    graph->add_option("--format", args->format, "text (default), dot, mermaid, or svg")
        ->check(CLI::IsMember({"text", "dot", "mermaid", "svg"}).description(""))
        ->type_name("text|dot|mermaid|svg");
    set_examples(*graph,
                 "  depctl environment graph\n"
                 "  depctl environment graph --format svg > pipeline.svg\n"
                 "  depctl environment graph --format dot | dot -Tpng > pipeline.png");
    on_run(*graph, inv, [&inv, args] {
        auto store = open_state(inv.options);
        const State state = store->load();
        const PipelineGraph g = pipeline_graph(select_environment(state, inv.options.environment));
        if (json_output(inv.options) && (args->format.empty() || args->format == "text")) {
            print_json(graph_json(g));
        } else if (args->format == "dot") {
            std::cout << graph_dot(g);
        } else if (args->format == "mermaid") {
            std::cout << graph_mermaid(g);
        } else if (args->format == "svg") {
            std::cout << graph_svg(g);
        } else {
            std::cout << graph_text(g, use_color(inv.options));
        }
        return 0;
    });

    CLI::App& deployment = find_group(app, "deployment");
    auto* timeline = deployment.add_subcommand(
        "timeline", "Draw a deployment in time: a Gantt SVG or a Chrome trace");
    add_deployment_id(*timeline, args->id);
    timeline->add_option("--format", args->format, "svg (default) or chrome-trace")
        ->check(CLI::IsMember({"svg", "chrome-trace"}).description(""))
        ->type_name("svg|chrome-trace");
    timeline->add_option("-o,--output-file", args->file, "Write to FILE instead of stdout")
        ->type_name("FILE");
    set_examples(*timeline,
                 "  depctl deployment timeline latest -o timeline.svg\n"
                 "  depctl deployment timeline latest --format chrome-trace -o trace.json\n"
                 "    (open trace.json in https://ui.perfetto.dev or chrome://tracing)");
    on_run(*timeline, inv, [&inv, args] {
        auto store = open_state(inv.options);
        const State state = store->load();
        const DeploymentTimeline t =
            timeline_from_record(load_deployment(*store, state, inv.options, args->id));
        if (args->format == "chrome-trace") {
            emit(inv.options, args->file, timeline_chrome_trace(t).dump(1) + "\n");
        } else {
            emit(inv.options, args->file, timeline_svg(t, explain_deployment(t)));
        }
        return 0;
    });

    auto* explain = deployment.add_subcommand(
        "explain", "What each step waited for, the critical path, and the pool's idle time");
    add_deployment_id(*explain, args->id);
    explain->add_option("--service", args->service, "Only this service's steps")
        ->type_name("SERVICE");
    add_json_flag(*explain, inv.options);
    set_examples(*explain,
                 "  depctl deployment explain latest\n"
                 "  depctl deployment explain latest --service api -o json");
    on_run(*explain, inv, [&inv, args] {
        auto store = open_state(inv.options);
        const State state = store->load();
        const DeploymentTimeline t =
            timeline_from_record(load_deployment(*store, state, inv.options, args->id));
        const Explanation e = explain_deployment(t);
        if (json_output(inv.options)) {
            print_json(explanation_to_json(t, e, args->service));
        } else {
            std::cout << explanation_text(t, e, args->service, use_color(inv.options));
        }
        return 0;
    });
}

}  // namespace depctl::cli
