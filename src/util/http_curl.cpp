// libcurl is loaded on first use (dlopen) rather than linked: with its ~30 dependent
// libraries (TLS, Kerberos, LDAP, ...) it made the dynamic loader the largest cost of
// every depctl command, while only HTTP health checks and the etcd backend need it.
#include <curl/curl.h>
#include <dlfcn.h>

#include <string>

#include "util/error.hpp"
#include "util/http.hpp"

namespace depctl {
namespace {

// The libcurl functions depctl calls, resolved from the library. The SONAME has been
// libcurl.so.4 since 2006; the gnutls flavour has the same ABI.
class CurlApi {
public:
    decltype(&::curl_global_init) global_init = nullptr;
    decltype(&::curl_easy_init) easy_init = nullptr;
    decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
    decltype(&::curl_easy_reset) easy_reset = nullptr;
    decltype(&::curl_easy_setopt) easy_setopt = nullptr;
    decltype(&::curl_easy_perform) easy_perform = nullptr;
    decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
    decltype(&::curl_easy_strerror) easy_strerror = nullptr;
    decltype(&::curl_slist_append) slist_append = nullptr;
    decltype(&::curl_slist_free_all) slist_free_all = nullptr;

    // Loads and initialises libcurl once (thread-safe); throws util::Error naming what is
    // missing. The library stays loaded until exit.
    static const CurlApi& get() {
        static const CurlApi api = load();
        return api;
    }

private:
    static CurlApi load() {
        void* library = nullptr;
        std::string why;
        for (const char* name : {"libcurl.so.4", "libcurl-gnutls.so.4"}) {
            library = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
            if (library) break;
            if (why.empty()) why = ::dlerror();
        }
        if (!library) {
            throw util::Error("HTTP needs libcurl, which cannot be loaded: " + why,
                              "install it (Debian and Ubuntu: apt-get install libcurl4)");
        }
        CurlApi api;
        resolve(library, "curl_global_init", api.global_init);
        resolve(library, "curl_easy_init", api.easy_init);
        resolve(library, "curl_easy_cleanup", api.easy_cleanup);
        resolve(library, "curl_easy_reset", api.easy_reset);
        resolve(library, "curl_easy_setopt", api.easy_setopt);
        resolve(library, "curl_easy_perform", api.easy_perform);
        resolve(library, "curl_easy_getinfo", api.easy_getinfo);
        resolve(library, "curl_easy_strerror", api.easy_strerror);
        resolve(library, "curl_slist_append", api.slist_append);
        resolve(library, "curl_slist_free_all", api.slist_free_all);
        // curl_global_init is not thread-safe; the static initialisation of get() runs it
        // exactly once, before the first handle.
        api.global_init(CURL_GLOBAL_DEFAULT);
        return api;
    }

    template <typename Function>
    static void resolve(void* library, const char* name, Function& out) {
        out = reinterpret_cast<Function>(::dlsym(library, name));
        if (!out)
            throw util::Error(std::string("the loaded libcurl lacks ") + name, "install libcurl4");
    }
};

struct Transfer {
    std::string* body;
    std::size_t limit;
    const CancelSignal* cancel;
    bool status_only = false;
    bool overflow = false;
    bool stopped_at_body = false;
};

std::size_t on_data(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    const std::size_t bytes = size * count;
    if (transfer->status_only) {
        transfer->stopped_at_body = true;  // the headers, with the status, have arrived
        return 0;                          // aborts the transfer
    }
    if (transfer->body->size() + bytes > transfer->limit) {
        transfer->overflow = true;
        return 0;  // aborts the transfer
    }
    transfer->body->append(data, bytes);
    return bytes;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    const auto* transfer = static_cast<Transfer*>(user);
    return transfer->cancel && transfer->cancel->level() != CancelLevel::none ? 1 : 0;
}

}  // namespace

struct HttpClient::Impl {
    CURL* handle = nullptr;
    char error[CURL_ERROR_SIZE] = {};
};

HttpClient::HttpClient() : m_impl(std::make_unique<Impl>()) {
    m_impl->handle = CurlApi::get().easy_init();
    if (!m_impl->handle) throw util::Error("cannot create an HTTP client (curl_easy_init failed)");
}

HttpClient::~HttpClient() {
    if (m_impl && m_impl->handle) CurlApi::get().easy_cleanup(m_impl->handle);
}

HttpClient::HttpClient(HttpClient&& other) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&& other) noexcept = default;

HttpResponse HttpClient::perform(const HttpRequest& request) {
    const CurlApi& curl = CurlApi::get();
    CURL* h = m_impl->handle;
    curl.easy_reset(h);  // keeps the connection cache, drops the previous request's options
    HttpResponse response;
    Transfer transfer{&response.body, request.max_body_bytes, request.cancel, request.status_only};
    m_impl->error[0] = '\0';
    curl.easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl.easy_setopt(h, CURLOPT_ERRORBUFFER, m_impl->error);
    curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // safe with threads
    curl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(request.connect_timeout_s * 1000));
    curl.easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout_s * 1000));
    curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl.easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
    curl.easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl.easy_setopt(h, CURLOPT_XFERINFODATA, &transfer);
    curl.easy_setopt(h, CURLOPT_USERAGENT, "depctl");
    if (!request.ca_file.empty()) curl.easy_setopt(h, CURLOPT_CAINFO, request.ca_file.c_str());
    if (!request.cert_file.empty()) curl.easy_setopt(h, CURLOPT_SSLCERT, request.cert_file.c_str());
    if (!request.key_file.empty()) curl.easy_setopt(h, CURLOPT_SSLKEY, request.key_file.c_str());
    if (request.method != "GET" || !request.body.empty()) {
        curl.easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        curl.easy_setopt(h, CURLOPT_POSTFIELDS, request.body.c_str());
        curl.easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
    }
    curl_slist* headers = nullptr;
    for (const auto& header : request.headers) headers = curl.slist_append(headers, header.c_str());
    if (headers) curl.easy_setopt(h, CURLOPT_HTTPHEADER, headers);

    const CURLcode code = curl.easy_perform(h);
    if (headers) curl.slist_free_all(headers);
    if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && transfer.stopped_at_body)) {
        response.transport_ok = true;
        curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
        return response;
    }
    response.canceled = code == CURLE_ABORTED_BY_CALLBACK;
    long os_errno = 0;
    curl.easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
    response.os_errno = static_cast<int>(os_errno);
    response.error = m_impl->error[0] ? m_impl->error : curl.easy_strerror(code);
    if (transfer.overflow)
        response.error =
            "response larger than " + std::to_string(request.max_body_bytes) + " bytes";
    return response;
}

}  // namespace depctl
