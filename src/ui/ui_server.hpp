// `depctl ui`: the local web console (DESIGN §10) on cpp-httplib. Serves the embedded page
// and a small JSON API on 127.0.0.1 only; every request needs the token, a Host header
// naming this server, and (for writes) a same-origin Origin.
#pragma once

#include <memory>
#include <string>

#include "depctl/store.hpp"

namespace depctl::ui {

struct ServerOptions {
    std::string state_location;  // resolved, as open_store takes it
    StoreOptions store_options;
    int port = 0;  // 0 = a free port
};

class Server {
public:
    // Binds 127.0.0.1 (throws Error{Busy} when the port is taken) and starts serving on a
    // thread of its own.
    explicit Server(ServerOptions options);
    ~Server();  // cancels deployments started from the page, stops serving
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    int port() const;
    // The address to open once: it carries the token, which the page trades for a cookie.
    std::string url() const;
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// A new random token: 32 bytes from getrandom(2), as hex.
std::string new_token();

}  // namespace depctl::ui
