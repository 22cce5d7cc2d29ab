// One RAII wrapper over a libcurl easy handle, shared by HTTP health checks and the etcd
// client. A parameter struct instead of long argument lists.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "util/cancel.hpp"
#include "util/error.hpp"

namespace depctl {

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    std::string body;                  // sent when non-empty (or method is POST/PUT)
    std::vector<std::string> headers;  // "Name: value"
    double connect_timeout_s = 0.4;
    double timeout_s = 20;  // whole request
    std::size_t max_body_bytes = 64 * 1024 * 1024;
    // Only the status matters (health checks): the transfer stops at the first body byte,
    // so a body of any size is fine and nothing of it is kept.
    bool status_only = false;
    const CancelSignal* cancel = nullptr;  // aborts a transfer in flight
    // TLS (etcd): CA bundle, client certificate and key; empty = libcurl defaults.
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
};

struct HttpResponse {
    bool transport_ok = false;  // a response arrived (any status)
    long status = 0;
    std::string body;
    std::string error;  // curl's message when !transport_ok, e.g. "Connection refused"
    int os_errno = 0;   // the system error behind a failed connect (ECONNREFUSED, ...), or 0
    bool canceled = false;
};

class HttpClient {
public:
    HttpClient();
    ~HttpClient();
    HttpClient(HttpClient&& other) noexcept;
    HttpClient& operator=(HttpClient&& other) noexcept;
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Never throws for network errors: they are reported in the response.
    HttpResponse perform(const HttpRequest& request);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace depctl
