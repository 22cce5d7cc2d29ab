#include "ui/ui_routes.hpp"

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "depctl/error.hpp"
#include "depctl/history.hpp"
#include "depctl/render.hpp"
#include "depctl/timeline.hpp"
#include "ui/ui_actions.hpp"
#include "util/files.hpp"

namespace depctl::ui {
namespace {
using nlohmann::json;

const char* kind_name(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::Failed:
            return "failed";
        case ErrorKind::Usage:
            return "usage";
        case ErrorKind::Refused:
            return "refused";
        case ErrorKind::Busy:
            return "busy";
        case ErrorKind::Policy:
            return "policy";
        case ErrorKind::NotFound:
        case ErrorKind::Corrupt:
        case ErrorKind::Io:
        case ErrorKind::Unreachable:
            return "store";  // the API's kinds name exit codes (docs/ui.md)
        case ErrorKind::Canceled:
            return "cancelled";
    }
    return "error";
}

void send_json(httplib::Response& res, const json& body, int status = 200) {
    res.status = status;
    res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace),
                    "application/json; charset=utf-8");
}

json body_of(const httplib::Request& req) {
    json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object())
        throw Error(ErrorKind::Usage, "the request body is not a JSON object");
    return body;
}

// Runs a handler and turns depctl's errors into the JSON refusal the page shows inline.
httplib::Server::Handler guarded(
    std::function<void(const httplib::Request&, httplib::Response&)> f) {
    return [f = std::move(f)](const httplib::Request& req, httplib::Response& res) {
        try {
            f(req, res);
        } catch (const Error& e) {
            send_error(res, e);
        } catch (const std::exception& e) {
            send_error(res, Error(ErrorKind::Io, e.what()));
        }
    };
}

// A 64-bit FNV-1a of the state's bytes: the board's ETag, so that the page's poll costs a
// 304 when nothing changed.
std::string etag_of(const std::string& bytes) {
    std::uint64_t hash = 1469598103934665603ULL;
    for (unsigned char c : bytes) hash = (hash ^ c) * 1099511628211ULL;
    std::ostringstream out;
    out << "\"" << std::hex << hash << "\"";
    return out.str();
}

void get_board(RouteContext& ctx, const httplib::Request& req, httplib::Response& res) {
    const State state = ctx.open()->load();
    json board = board_view(state);
    for (auto& env : board["environments"]) {
        auto run = ctx.runs.running_in(env["id"].get<std::string>());
        env["running"] = run ? json(run->id()) : json(nullptr);
    }
    const std::string body = board.dump(-1, ' ', false, json::error_handler_t::replace);
    const std::string etag = etag_of(body);
    res.set_header("ETag", etag);
    if (req.get_header_value("If-None-Match") == etag) {
        res.status = 304;
        return;
    }
    res.set_content(body, "application/json; charset=utf-8");
}

DeployRequest deploy_request(const State& state, const json& body) {
    DeployRequest request;
    request.environment_id = environment_of(state, body).id;
    if (body.contains("version") && body["version"].is_string() &&
        !body["version"].get<std::string>().empty())
        request.version = body["version"].get<std::string>();
    request.trigger = "ui";
    request.assume_yes = body.value("approved", false);
    return request;
}

// One action, one transaction. Server-Timing tells the page (and bench/bench_ui.py) how
// long the server took, apart from the network.
void post_action(RouteContext& ctx, const httplib::Request& req, httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    auto store = ctx.open();
    const std::string message = apply_action(*store, body_of(req));
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    res.set_header("Server-Timing", "action;dur=" + std::to_string(took.count()));
    send_json(res, {{"message", message}});
}

void post_plan(RouteContext& ctx, const httplib::Request& req, httplib::Response& res) {
    const json body = body_of(req);
    auto store = ctx.open();
    const State state = store->load();
    const DeployRequest request = deploy_request(state, body);
    const DeployPreview preview = preview_deployment(*store, state, request);
    json out = preview.to_json();
    out["text"] = preview.to_text(/*dry_run=*/true);
    out["require_approval"] =
        state.find_environment_by_id(request.environment_id)->require_approval;
    send_json(res, out);
}

void post_deploy(RouteContext& ctx, const httplib::Request& req, httplib::Response& res) {
    const json body = body_of(req);
    auto store = ctx.open();
    const DeployRequest request = deploy_request(store->load(), body);
    auto run = ctx.runs.start(std::move(store), request);
    run->wait_started();
    send_json(res, {{"run", run->id()}}, 202);
}

// Server-sent events: every event of the run from Last-Event-ID on, then the live ones.
void get_events(RouteContext& ctx, const httplib::Request& req, httplib::Response& res) {
    auto run = ctx.runs.find(req.matches[1]);
    if (!run) throw Error(ErrorKind::Refused, "no deployment run " + std::string(req.matches[1]));
    std::size_t next = 0;
    if (req.has_header("Last-Event-ID"))
        next = std::stoul(req.get_header_value("Last-Event-ID")) + 1;
    res.set_header("Cache-Control", "no-store");
    res.set_chunked_content_provider(
        "text/event-stream", [run, next](std::size_t, httplib::DataSink& sink) mutable {
            bool done = false;
            const auto events = run->events_from(next, std::chrono::milliseconds(1000), done);
            std::string chunk = events.empty() ? ": keep-alive\n\n" : "";
            for (const auto& event : events) {
                chunk += "id: " + std::to_string(next++) +
                         "\ndata: " + event.dump(-1, ' ', false, json::error_handler_t::replace) +
                         "\n\n";
            }
            if (!sink.write(chunk.data(), chunk.size())) return false;
            if (done && events.empty()) sink.done();
            return true;
        });
}

void get_history(RouteContext& ctx, const httplib::Request& req, httplib::Response& res) {
    auto store = ctx.open();
    const State state = store->load();
    const Environment& env =
        environment_of(state, {{"environment", req.get_param_value("environment")}});
    json out = json::array();
    for (const auto& record : list_deployments(*store, env, {20, {}}))
        out.push_back(deployment_summary(record));
    send_json(res, out);
}

void get_deployment(RouteContext& ctx, const httplib::Request& req, httplib::Response& res) {
    auto store = ctx.open();
    send_json(res, find_deployment(*store, store->load(), req.matches[1]).to_json());
}

// The deployment's Gantt chart, the SVG `deployment timeline` writes. Shown by an <img>,
// so it runs no script; its own <style> needs inline styles in this response's policy.
void get_timeline(RouteContext& ctx, const httplib::Request& req, httplib::Response& res) {
    auto store = ctx.open();
    const DeploymentTimeline t =
        timeline_from_record(find_deployment(*store, store->load(), req.matches[1]));
    res.headers.erase("Content-Security-Policy");  // the server's default, replaced not added
    res.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    res.set_content(timeline_svg(t, explain_deployment(t)), "image/svg+xml; charset=utf-8");
}

// A step's log, found through the deployment record: the page never names a path.
void get_log(RouteContext& ctx, const httplib::Request& req, httplib::Response& res) {
    auto store = ctx.open();
    const DeploymentRecord record =
        find_deployment(*store, store->load(), req.get_param_value("deployment"));
    const auto logs =
        deployment_logs(record, req.get_param_value("service"), req.get_param_value("step"));
    if (logs.empty()) throw Error(ErrorKind::Refused, "no log for that step");
    // Like `deployment logs`: never through a link, never blocking on a FIFO (DESIGN §2).
    std::optional<std::string> text;
    try {
        text = read_file(logs.front().path);
    } catch (const util::Error& e) {
        throw Error(ErrorKind::Io, e.what(), e.hint());
    }
    if (!text) throw Error(ErrorKind::Refused, "the log " + logs.front().path + " is gone");
    res.set_content(*text, "text/plain; charset=utf-8");
}

}  // namespace

int http_status_of(const Error& error) {
    switch (error.kind()) {
        case ErrorKind::Usage:
            return 400;
        case ErrorKind::Refused:
            return 409;
        case ErrorKind::Busy:
            return 423;
        case ErrorKind::Policy:
            return 412;
        default:
            return 500;
    }
}

void send_error(httplib::Response& res, const Error& error) {
    send_json(res,
              {{"error", error.what()},
               {"hint", error.hint()},
               {"exit_code", error.exit_code()},
               {"kind", kind_name(error.kind())}},
              http_status_of(error));
}

void add_api_routes(httplib::Server& server, RouteContext& ctx) {
    using Req = httplib::Request;
    using Res = httplib::Response;
    server.Get("/api/board", guarded([&ctx](const Req& q, Res& s) { get_board(ctx, q, s); }));
    server.Post("/api/action", guarded([&ctx](const Req& q, Res& s) { post_action(ctx, q, s); }));
    server.Post("/api/plan", guarded([&ctx](const Req& q, Res& s) { post_plan(ctx, q, s); }));
    server.Post("/api/deploy", guarded([&ctx](const Req& q, Res& s) { post_deploy(ctx, q, s); }));
    server.Get(R"(/api/runs/([A-Za-z0-9_]+)/events)",
               guarded([&ctx](const Req& q, Res& s) { get_events(ctx, q, s); }));
    server.Post(R"(/api/runs/([A-Za-z0-9_]+)/cancel)", guarded([&ctx](const Req& q, Res& s) {
                    auto run = ctx.runs.find(q.matches[1]);
                    if (!run) throw Error(ErrorKind::Refused, "no deployment run to cancel");
                    run->cancel();
                    send_json(s, {{"message", "Cancelling"}}, 202);
                }));
    server.Get("/api/history", guarded([&ctx](const Req& q, Res& s) { get_history(ctx, q, s); }));
    server.Get(R"(/api/deployments/([A-Za-z0-9_]+)/timeline\.svg)",
               guarded([&ctx](const Req& q, Res& s) { get_timeline(ctx, q, s); }));
    server.Get(R"(/api/deployments/([A-Za-z0-9_]+))",
               guarded([&ctx](const Req& q, Res& s) { get_deployment(ctx, q, s); }));
    server.Get("/api/log", guarded([&ctx](const Req& q, Res& s) { get_log(ctx, q, s); }));
}

}  // namespace depctl::ui
