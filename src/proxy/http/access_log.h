#pragma once
// Access log lines ("combined" or "json") written with one write(2) each to stderr, stdout or a
// file. One AccessLog per process, shared by workers (the fd swap on reopen is atomic).

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.h"

namespace sluice::proxy {

struct AccessRecord {
    std::string_view client;
    std::string_view method;
    std::string_view target;
    int version_major = 1;
    int version_minor = 1;
    int status = 0;
    uint64_t bytes_sent = 0;  // response body bytes to the client
    std::string_view referer;
    std::string_view user_agent;
    std::string_view host;
    std::string_view upstream;  // server name ("-" when none)
    std::string_view pool;
    int64_t connect_ms = -1;     // -1 = not measured (pooled connection or none)
    int64_t first_byte_ms = -1;  // request start to first response byte
    int64_t total_ms = 0;
    std::string_view request_id;
    // How the exchange ended: a short fixed token, never free text (README "Access log" lists
    // them): ok, redirect, client_abort, client_header_timeout, client_body_timeout,
    // client_timeout, bad_request, body_too_large, uri_too_long, header_too_large,
    // not_implemented, version_not_supported, no_route, no_server, queue_timeout,
    // upstream_error, upstream_timeout, upstream_error_mid_response,
    // upstream_timeout_mid_response.
    std::string_view termination;
    std::string_view tls_version;  // "TLSv1.3"; empty on a plain connection
    std::string_view sni;          // server name the TLS client asked for; may be empty
};

class AccessLog {
  public:
    // Opens the target ("off" | "stderr" | "stdout" | path). Returns false with `error` set.
    bool open(const config::LogConfig& config, std::string* error);
    bool reopen(std::string* error);
    bool enabled() const { return fd_.load(std::memory_order_relaxed) >= 0; }
    // Formats into `scratch` (reused) and writes one line.
    void write(const AccessRecord& record, std::string& scratch) const;

  private:
    std::atomic<int> fd_{-1};
    std::string target_ = "off";
    config::AccessLogFormat format_ = config::AccessLogFormat::kCombined;
};

AccessLog& accessLog();

// The termination token for a request sluice rejected itself with `status` (the parser's and
// validator's 4xx/5xx): "bad_request" for 400 and any status without a token of its own.
const char* rejectionTermination(int status);

}  // namespace sluice::proxy
