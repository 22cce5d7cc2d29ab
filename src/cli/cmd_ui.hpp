// `depctl ui` (DESIGN §10). The command is part of every depctl, the server only of
// `depctl-ui`: the HTTP library (and the TLS, zlib and brotli libraries it links) costs
// every other command about 8 ms at start-up, so `depctl ui` re-executes itself as the
// sibling program `depctl-ui`, which is depctl plus the server (see docs/decisions.md).
#pragma once

#include "common.hpp"

namespace depctl::cli {

struct UiArgs {
    int port = 0;
    bool no_open = false;
};

using UiServer = int (*)(Invocation&, const UiArgs&);

// Called by depctl-ui's main() before depctl_main(): `ui` then serves in this process.
void set_ui_server(UiServer server);

}  // namespace depctl::cli
