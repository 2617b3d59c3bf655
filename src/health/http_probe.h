#pragma once
// type = "http": sends `GET path HTTP/1.1` with Host, `Connection: close` and
// `User-Agent: sluice-health-check`; passes when a response head whose status lies in one of the
// `expect_status` ranges arrives within the timeout. The head is parsed strictly (a malformed
// response fails the check); 1xx interim responses are skipped; the body is not read: the
// connection is closed as soon as the head is in.
//
// Result details: "HTTP 200" on a pass, "HTTP 503 from /healthz" on a failed status,
// "invalid HTTP response: ..." on a parse error.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "health/probe.h"
#include "http/response_parser.h"

namespace sluice::health {

class HttpProbe : public Probe, private http::ResponseHandler {
  public:
    // `host` is the Host header value.
    HttpProbe(uv_loop_t* loop, std::chrono::milliseconds timeout, std::string path,
              const std::string& host, std::vector<std::pair<int, int>> expect_status);

    // The request bytes (for tests and logs).
    const std::string& request() const { return request_; }
    // True when `status` lies in one of the inclusive ranges.
    static bool statusExpected(int status, const std::vector<std::pair<int, int>>& ranges);

  protected:
    void onProbeConnected(net::TcpConnection& conn) override;
    void resetProtocol() override;
    void onData(net::TcpConnection& conn, std::string_view bytes) override;
    void onEof(net::TcpConnection& conn) override;

  private:
    // http::ResponseHandler
    void onInterimResponse(const http::ResponseHead& head) override;
    http::Action onResponseHead(http::ResponseHead& head) override;
    http::Action onResponseBody(std::string_view decoded) override;
    void onResponseComplete() override;
    void verdict();

    std::string path_;
    std::string request_;
    std::vector<std::pair<int, int>> expect_status_;
    std::optional<http::ResponseParser> parser_;  // one per check (per connection)
    int status_ = 0;                              // status of the final response head, 0 = none
};

}  // namespace sluice::health
