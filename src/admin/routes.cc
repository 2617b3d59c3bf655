#include "admin/routes.h"

#include "admin/status_page.h"
#include "http/serializer.h"
#include "metrics/exposition.h"

namespace sluice::admin {

Response route(std::string_view method, std::string_view target, bool allowed, Source& source) {
    Response r;
    if (!allowed) {
        r.status = 403;
        r.body = "403 Forbidden: this client is not in [admin] allow\n";
        return r;
    }
    const std::string_view path = target.substr(0, target.find('?'));
    const bool known =
        path == "/metrics" || path == "/status.json" || path == "/status" || path == "/healthz";
    if (!known) {
        r.status = 404;
        r.body = "404 Not Found: try /metrics, /status, /status.json or /healthz\n";
        return r;
    }
    if (method != "GET" && method != "HEAD") {
        r.status = 405;
        r.body = "405 Method Not Allowed: GET or HEAD\n";
        return r;
    }
    if (path == "/metrics") {
        r.content_type = std::string(metrics::kExpositionContentType);
        r.body = source.metricsText();
    } else if (path == "/status.json") {
        r.content_type = "application/json";
        r.body = source.statusJson();
    } else if (path == "/status") {
        r.content_type = std::string(kStatusPageContentType);
        r.body = std::string(statusPageHtml());
    } else if (source.handingOver()) {
        r.status = 503;
        r.body = "stopping\n";
    } else {
        r.body = "ok\n";
    }
    return r;
}

std::string serializeResponse(const Response& response, bool head_only) {
    std::string out = "HTTP/1.1 " + std::to_string(response.status) + " ";
    out.append(http::reasonPhrase(response.status));
    out.append("\r\nContent-Type: ").append(response.content_type);
    out.append("\r\nContent-Length: ").append(std::to_string(response.body.size()));
    out.append("\r\nCache-Control: no-store\r\n");
    if (response.status == 405) out.append("Allow: GET, HEAD\r\n");
    out.append("Connection: close\r\n\r\n");
    if (!head_only) out.append(response.body);
    return out;
}

}  // namespace sluice::admin
