#include <curl/curl.h>

#include <mutex>

#include "depctl/error.hpp"
#include "depctl/http.hpp"

namespace depctl {
namespace {

// curl_global_init is not thread-safe; run it once before the first handle.
void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
    std::string* body;
    std::size_t limit;
    const CancelSignal* cancel;
    bool overflow = false;
};

std::size_t on_data(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    const std::size_t bytes = size * count;
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
    global_init();
    m_impl->handle = curl_easy_init();
    if (!m_impl->handle) throw Error(ErrorKind::Store, "cannot create an HTTP client (curl_easy_init failed)");
}

HttpClient::~HttpClient() {
    if (m_impl && m_impl->handle) curl_easy_cleanup(m_impl->handle);
}

HttpClient::HttpClient(HttpClient&& other) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&& other) noexcept = default;

HttpResponse HttpClient::perform(const HttpRequest& request) {
    CURL* h = m_impl->handle;
    curl_easy_reset(h);  // keeps the connection cache, drops the previous request's options
    HttpResponse response;
    Transfer transfer{&response.body, request.max_body_bytes, request.cancel};
    m_impl->error[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, m_impl->error);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // safe with threads
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &transfer);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "depctl");
    if (!request.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, request.ca_file.c_str());
    if (!request.cert_file.empty()) curl_easy_setopt(h, CURLOPT_SSLCERT, request.cert_file.c_str());
    if (!request.key_file.empty()) curl_easy_setopt(h, CURLOPT_SSLKEY, request.key_file.c_str());
    if (request.method != "GET" || !request.body.empty()) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.c_str());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
    }
    curl_slist* headers = nullptr;
    for (const auto& header : request.headers) headers = curl_slist_append(headers, header.c_str());
    if (headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

    const CURLcode code = curl_easy_perform(h);
    if (headers) curl_slist_free_all(headers);
    if (code == CURLE_OK) {
        response.transport_ok = true;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
        return response;
    }
    response.canceled = code == CURLE_ABORTED_BY_CALLBACK;
    long os_errno = 0;
    curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
    response.os_errno = static_cast<int>(os_errno);
    response.error = m_impl->error[0] ? m_impl->error : curl_easy_strerror(code);
    if (transfer.overflow) response.error = "response larger than " + std::to_string(request.max_body_bytes) + " bytes";
    return response;
}

}  // namespace depctl
