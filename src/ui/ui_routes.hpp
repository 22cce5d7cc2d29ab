// The JSON API of the page (internal to src/ui): board, actions, plan, deploy, events,
// history, logs. Security checks run before these, in ui_server.cpp.
#pragma once

#include <httplib.h>

#include <string>

#include "depctl/open_store.hpp"
#include "depctl/store.hpp"
#include "ui/deploy_runs.hpp"

namespace depctl::ui {

struct RouteContext {
    std::string state_location;
    StoreOptions store_options;
    DeployRuns runs;
    std::unique_ptr<StateStore> open() const { return open_store(state_location, store_options); }
};

void add_api_routes(httplib::Server& server, RouteContext& context);

// The HTTP status of a refusal, by exit-code class: 400 usage, 409 refused, 423 busy,
// 412 policy, 500 otherwise.
int http_status_of(const Error& error);
// {"error": what, "hint": hint, "exit_code": N, "kind": "refused"}
void send_error(httplib::Response& res, const Error& error);

}  // namespace depctl::ui
