#include "http/request_validator.h"

#include <string_view>

#include "http/ascii.h"
#include "http/field_rules.h"

namespace sluice::http {

namespace {

constexpr Verdict reject(int status, const char* reason) { return Verdict{status, reason}; }

Verdict checkTarget(const RequestHead& head, std::string_view host, bool has_host) {
    std::string_view target = head.target;
    if (target.find('#') != std::string_view::npos) return reject(400, "fragment in target");
    if (target == "*") {
        if (head.method != "OPTIONS") return reject(400, "asterisk-form target");
        return {};
    }
    if (!target.empty() && target[0] == '/') return {};
    std::string_view default_port;
    if (startsWithIgnoreCase(target, "http://")) {
        target.remove_prefix(7);
        default_port = "80";
    } else if (startsWithIgnoreCase(target, "https://")) {
        target.remove_prefix(8);
        default_port = "443";
    } else {
        return reject(400, "invalid request target");
    }
    std::string_view authority = target.substr(0, target.find_first_of("/?"));
    if (!isValidAuthority(authority)) return reject(400, "invalid authority in target");
    if (has_host && !sameAuthority(authority, host, default_port)) {
        return reject(400, "target authority differs from Host");
    }
    return {};
}

Verdict checkFraming(RequestHead& head, uint64_t max_body_bytes) {
    const HeaderList& h = head.headers;
    size_t cl_index = h.find(FieldName::kContentLength);
    size_t te_index = h.find(FieldName::kTransferEncoding);
    head.framing = BodyFraming::kNone;
    head.content_length = 0;
    if (te_index != HeaderList::npos) {
        if (cl_index != HeaderList::npos) {
            return reject(400, "both Content-Length and Transfer-Encoding");
        }
        if (h.find(FieldName::kTransferEncoding, te_index + 1) != HeaderList::npos) {
            return reject(400, "repeated Transfer-Encoding");
        }
        if (head.version_minor == 0) return reject(400, "Transfer-Encoding in HTTP/1.0");
        switch (parseTransferEncoding(h.value(te_index))) {
            case CodingVerdict::kChunked:
                head.framing = BodyFraming::kChunked;
                return {};
            case CodingVerdict::kUnsupported:
                return reject(501, "unsupported transfer coding");
            case CodingVerdict::kInvalid:
                return reject(400, "invalid Transfer-Encoding");
        }
        return reject(400, "invalid Transfer-Encoding");
    }
    if (cl_index == HeaderList::npos) return {};
    if (h.find(FieldName::kContentLength, cl_index + 1) != HeaderList::npos) {
        return reject(400, "repeated Content-Length");
    }
    uint64_t length = 0;
    if (!parseContentLength(h.value(cl_index), length)) {
        return reject(400, "invalid Content-Length");
    }
    if (max_body_bytes != 0 && length > max_body_bytes) return reject(413, "body too large");
    head.content_length = length;
    head.framing = length > 0 ? BodyFraming::kContentLength : BodyFraming::kNone;
    return {};
}

void deriveConnection(RequestHead& head) {
    const HeaderList& h = head.headers;
    bool close = false, keep_alive = false, upgrade = false;
    for (size_t i = h.find(FieldName::kConnection); i != HeaderList::npos;
         i = h.find(FieldName::kConnection, i + 1)) {
        close = close || listHasToken(h.value(i), "close");
        keep_alive = keep_alive || listHasToken(h.value(i), "keep-alive");
        upgrade = upgrade || listHasToken(h.value(i), "upgrade");
    }
    const bool http11 = head.version_minor == 1;
    head.keep_alive = !close && (http11 || keep_alive);
    // Only websocket is tunnelled; any other Upgrade (h2c, TLS/1.0) is ignored and the request
    // proceeds as plain HTTP/1.1 (the serializer then drops Upgrade).
    size_t up = h.find(FieldName::kUpgrade);
    head.upgrade = http11 && upgrade && up != HeaderList::npos &&
                   h.find(FieldName::kUpgrade, up + 1) == HeaderList::npos &&
                   equalsIgnoreCase(h.value(up), "websocket") && head.method == "GET";
    size_t expect = h.find(FieldName::kExpect);
    head.expect_continue =
        http11 && expect != HeaderList::npos && equalsIgnoreCase(h.value(expect), "100-continue");
}

}  // namespace

Verdict validateRequestHead(RequestHead& head, uint64_t max_body_bytes) {
    if (head.version_major != 1 || head.version_minor > 1) {
        return reject(505, "HTTP version not supported");
    }
    if (head.method == "CONNECT") {
        // sluice is a reverse proxy: no tunnels to arbitrary authorities.
        if (!isValidAuthority(head.target) || head.target.find(':') == std::string::npos) {
            return reject(400, "invalid CONNECT target");
        }
        return reject(501, "CONNECT not supported");
    }
    if (head.method == "PRI") return reject(505, "HTTP/2 preface not supported");

    const HeaderList& h = head.headers;
    size_t host_index = h.find(FieldName::kHost);
    const bool has_host = host_index != HeaderList::npos;
    std::string_view host = has_host ? h.value(host_index) : std::string_view();
    if (has_host && h.find(FieldName::kHost, host_index + 1) != HeaderList::npos) {
        return reject(400, "repeated Host");
    }
    if (!has_host && head.version_minor == 1) return reject(400, "missing Host");
    if (has_host && !isValidAuthority(host)) return reject(400, "invalid Host");

    Verdict v = checkTarget(head, host, has_host);
    if (!v.ok()) return v;
    v = checkFraming(head, max_body_bytes);
    if (!v.ok()) return v;
    deriveConnection(head);
    return {};
}

}  // namespace sluice::http
