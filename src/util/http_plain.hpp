// HTTP/1.1 over a plain TCP socket to an IP literal, for the etcd client's requests to
// http:// endpoints: loading libcurl (dlopen of it and its ~30 libraries) cost about 22 ms
// of every etcd command, more than the requests themselves. Everything else — TLS, host
// names, a proxy variable set, health checks — stays with HttpClient (libcurl).
#pragma once

#include <string>

#include "util/fd.hpp"
#include "util/http.hpp"

namespace depctl {

class PlainHttpClient {
public:
    // True when `request` can go this way: an http:// URL whose host is an IPv4 or [IPv6]
    // literal, no TLS file, no cancel signal, not status_only, and no proxy variable
    // (http_proxy, all_proxy, ALL_PROXY) that libcurl would have used.
    static bool handles(const HttpRequest& request);

    // As HttpClient::perform: never throws for network errors, which are reported in the
    // response with the text libcurl gives for the same failure ("Failed to connect to H
    // port P: ...", "Operation timed out after N milliseconds ..."). The connection stays
    // open for the next request to the same endpoint (keep-alive), as curl's cache keeps it.
    HttpResponse perform(const HttpRequest& request);

private:
    UniqueFd m_fd;
    std::string m_peer;  // "host:port" of m_fd
};

}  // namespace depctl
