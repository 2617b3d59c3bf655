#pragma once
// What the admin endpoint answers (shared/design/admin.md), apart from the connection handling:
// one request in, one response out. Pure, for unit tests.
//
// Precedence: a client outside `[admin] allow` gets 403 whatever it asks; then an unknown path
// 404; then a method other than GET/HEAD on a known path 405 (with Allow: GET, HEAD). Every
// response carries Cache-Control: no-store. The query string is ignored ("/metrics?x=1" is
// /metrics).

#include <string>
#include <string_view>

namespace sluice::admin {

// Where the bodies come from (the admin server's owner; main thread).
class Source {
  public:
    virtual ~Source() = default;
    virtual std::string metricsText() = 0;
    virtual std::string statusJson() = 0;
    // True from the moment a graceful stop or an upgrade hand-over begins: /healthz says 503.
    virtual bool handingOver() const = 0;
};

struct Response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
};

Response route(std::string_view method, std::string_view target, bool allowed, Source& source);

// The whole response: status line, Content-Type, Content-Length, Cache-Control: no-store,
// Connection: close (one request per connection), and the body unless `head_only`.
std::string serializeResponse(const Response& response, bool head_only);

}  // namespace sluice::admin
