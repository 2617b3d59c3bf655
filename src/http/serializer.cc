#include "http/serializer.h"

#include <charconv>
#include <cstdint>

#include "http/field_rules.h"
#include "http/header_list.h"

namespace sluice::http {

namespace {

void appendNumber(std::string& out, uint64_t n) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), n);
    (void)ec;  // 24 bytes always hold a uint64_t
    out.append(buf, end);
}

void appendField(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
}

// Fields that describe one connection and never travel through a proxy (RFC 9110 7.6.1).
bool isHopByHop(std::string_view name) {
    return equalsIgnoreCase(name, "connection") || equalsIgnoreCase(name, "keep-alive") ||
           equalsIgnoreCase(name, "proxy-connection") || equalsIgnoreCase(name, "te") ||
           equalsIgnoreCase(name, "trailer") || equalsIgnoreCase(name, "transfer-encoding") ||
           equalsIgnoreCase(name, "upgrade");
}

// Whether a Connection field of `h` names `name` as hop-by-hop.
bool listedInConnection(const HeaderList& h, std::string_view name) {
    for (size_t i = h.find("connection"); i != HeaderList::npos; i = h.find("connection", i + 1)) {
        if (listHasToken(h.value(i), name)) return true;
    }
    return false;
}

bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && equalsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// Splits an absolute-form target into authority and origin-form rest; false for other forms.
bool splitAbsoluteForm(std::string_view target, std::string_view& authority,
                       std::string_view& rest) {
    size_t skip;
    if (startsWithIgnoreCase(target, "http://")) {
        skip = 7;
    } else if (startsWithIgnoreCase(target, "https://")) {
        skip = 8;
    } else {
        return false;
    }
    target.remove_prefix(skip);
    const size_t end = target.find_first_of("/?");
    authority = target.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : target.substr(end);
    return true;
}

// Appends "Name: v1, v2, ..., extra" from every `name` field of `h`.
void appendJoined(std::string& out, const HeaderList& h, std::string_view name,
                  std::string_view extra) {
    out += name;
    out += ": ";
    for (size_t i = h.find(name); i != HeaderList::npos; i = h.find(name, i + 1)) {
        if (h.value(i).empty()) continue;
        out += h.value(i);
        out += ", ";
    }
    out += extra;
    out += "\r\n";
}

// Case-insensitive, and '_' in `name` counts as '-': CGI/WSGI servers (Gunicorn before 22)
// map X_Forwarded_For and X-Forwarded-For to the same variable, so a client could otherwise
// smuggle its own value next to ours.
bool sameFieldForCgi(std::string_view name, std::string_view canonical) {
    if (name.size() != canonical.size()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i] == '_' ? '-' : name[i];
        if (!equalsIgnoreCase(std::string_view(&c, 1), canonical.substr(i, 1))) return false;
    }
    return true;
}

bool isForwardingField(std::string_view name) {
    return sameFieldForCgi(name, "x-forwarded-for") || sameFieldForCgi(name, "x-forwarded-proto") ||
           sameFieldForCgi(name, "x-forwarded-host") || equalsIgnoreCase(name, "via");
}

}  // namespace

void serializeRequestHead(const RequestHead& head, BodyFraming framing, bool keep_alive,
                          const ForwardInfo& info, std::string& out) {
    const HeaderList& h = head.headers;
    std::string_view authority, path;
    const bool absolute = splitAbsoluteForm(head.target, authority, path);

    out += head.method;
    out += ' ';
    if (absolute) {
        // Upstreams get origin-form; the validated authority equals Host (or becomes Host).
        if (path.empty() || path[0] != '/') out += '/';
        out += path;
    } else {
        out += head.target;
    }
    out += " HTTP/1.1\r\n";

    std::string_view host;
    bool has_host = false;
    bool had_length = false;
    bool has_request_id = false;
    for (size_t i = 0; i < h.size(); ++i) {
        const std::string_view name = h.name(i);
        const std::string_view value = h.value(i);
        // Host and framing are decided here, whatever Connection lists.
        if (equalsIgnoreCase(name, "host")) {
            has_host = true;
            host = value;
            appendField(out, name, value);
            continue;
        }
        if (equalsIgnoreCase(name, "content-length")) {
            had_length = true;
            continue;
        }
        if (head.upgrade && equalsIgnoreCase(name, "upgrade")) {
            appendField(out, name, value);
            continue;
        }
        if (isHopByHop(name) || listedInConnection(h, name)) continue;
        if (info.forwarded_headers && isForwardingField(name)) continue;  // rewritten below
        if (!info.request_id_header.empty() && equalsIgnoreCase(name, info.request_id_header)) {
            has_request_id = true;
        }
        appendField(out, name, value);
    }
    if (!has_host) {
        host = absolute ? authority : std::string_view();
        appendField(out, "Host", host);
    }

    switch (framing) {
        case BodyFraming::kContentLength:
            out += "Content-Length: ";
            appendNumber(out, head.content_length);
            out += "\r\n";
            break;
        case BodyFraming::kChunked:
            out += "Transfer-Encoding: chunked\r\n";
            break;
        case BodyFraming::kNone:
        case BodyFraming::kUntilClose:
            if (had_length) out += "Content-Length: 0\r\n";  // keep "empty body" explicit
            break;
    }
    if (head.upgrade) {
        out += "Connection: upgrade\r\n";
    } else if (!keep_alive) {
        out += "Connection: close\r\n";
    }

    if (info.forwarded_headers) {
        appendJoined(out, h, "X-Forwarded-For", info.client_ip);
        appendField(out, "X-Forwarded-Proto", info.tls ? "https" : "http");
        if (!host.empty()) appendField(out, "X-Forwarded-Host", host);
        appendJoined(out, h, "Via", head.version_minor == 0 ? "1.0 sluice" : "1.1 sluice");
    }
    if (!info.request_id_header.empty() && !has_request_id) {
        appendField(out, info.request_id_header, info.request_id);
    }
    out += "\r\n";
}

void serializeResponseHead(const ResponseHead& head, BodyFraming framing, bool keep_alive,
                           int client_minor, std::string_view extra, std::string& out) {
    const HeaderList& h = head.headers;
    const int status = head.status;
    out += "HTTP/1.1 ";
    appendNumber(out, static_cast<uint64_t>(status));
    out += ' ';
    out += head.reason.empty() ? reasonPhrase(status) : std::string_view(head.reason);
    out += "\r\n";

    const bool switching = status == 101;
    // With no framing of our own, a HEAD or 304 response keeps the upstream's Content-Length
    // (it describes the representation); 1xx and 204 must not carry one.
    const bool keep_length = framing == BodyFraming::kNone && status >= 200 && status != 204;
    for (size_t i = 0; i < h.size(); ++i) {
        const std::string_view name = h.name(i);
        if (equalsIgnoreCase(name, "content-length")) {
            if (keep_length) appendField(out, name, h.value(i));
            continue;
        }
        if (switching && equalsIgnoreCase(name, "upgrade")) {
            appendField(out, name, h.value(i));
            continue;
        }
        if (isHopByHop(name) || listedInConnection(h, name)) continue;
        appendField(out, name, h.value(i));
    }
    switch (framing) {
        case BodyFraming::kContentLength:
            out += "Content-Length: ";
            appendNumber(out, head.content_length);
            out += "\r\n";
            break;
        case BodyFraming::kChunked:
            out += "Transfer-Encoding: chunked\r\n";
            break;
        case BodyFraming::kNone:
        case BodyFraming::kUntilClose:
            break;
    }
    if (switching) {
        out += "Connection: upgrade\r\n";
    } else if (!keep_alive || framing == BodyFraming::kUntilClose) {
        out += "Connection: close\r\n";
    } else if (client_minor == 0) {
        out += "Connection: keep-alive\r\n";
    }
    out += extra;
    out += "\r\n";
}

void serializeErrorResponse(int status, bool close, std::string_view extra_headers,
                            std::string& out) {
    const std::string_view phrase = reasonPhrase(status);
    // Body: "502 Bad Gateway\n".
    const uint64_t body_len = 3 + 1 + phrase.size() + 1;
    out += "HTTP/1.1 ";
    appendNumber(out, static_cast<uint64_t>(status));
    out += ' ';
    out += phrase;
    out += "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ";
    appendNumber(out, body_len);
    out += "\r\n";
    if (close) out += "Connection: close\r\n";
    out += extra_headers;
    out += "\r\n";
    appendNumber(out, static_cast<uint64_t>(status));
    out += ' ';
    out += phrase;
    out += '\n';
}

std::string_view reasonPhrase(int status) {
    switch (status) {
        case 100:
            return "Continue";
        case 101:
            return "Switching Protocols";
        case 103:
            return "Early Hints";
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 202:
            return "Accepted";
        case 204:
            return "No Content";
        case 206:
            return "Partial Content";
        case 301:
            return "Moved Permanently";
        case 302:
            return "Found";
        case 303:
            return "See Other";
        case 304:
            return "Not Modified";
        case 307:
            return "Temporary Redirect";
        case 308:
            return "Permanent Redirect";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 411:
            return "Length Required";
        case 412:
            return "Precondition Failed";
        case 413:
            return "Content Too Large";
        case 414:
            return "URI Too Long";
        case 415:
            return "Unsupported Media Type";
        case 417:
            return "Expectation Failed";
        case 421:
            return "Misdirected Request";
        case 426:
            return "Upgrade Required";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return "Unknown";
    }
}

}  // namespace sluice::http
