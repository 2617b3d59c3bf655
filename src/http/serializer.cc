#include "http/serializer.h"

#include <charconv>
#include <cstdint>

#include "http/ascii.h"
#include "http/field_rules.h"
#include "http/header_list.h"

namespace sluice::http {

namespace {

void appendNumber(std::string& out, uint64_t n) {
    if (n >= 100 && n <= 999) {  // status codes
        const char digits[3] = {static_cast<char>('0' + n / 100),
                                static_cast<char>('0' + n / 10 % 10),
                                static_cast<char>('0' + n % 10)};
        out.append(digits, 3);
        return;
    }
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

// Copies field lines of one HeaderList to `out`, lines that lie next to each other in the list
// (fields kept in a row) in one append.
class LineCopier {
  public:
    explicit LineCopier(std::string& out) : out_(out) {}
    void add(std::string_view line) {
        if (line.data() != end_) {
            flush();
            begin_ = line.data();
        }
        end_ = line.data() + line.size();
    }
    void flush() {
        if (begin_ != end_) out_.append(begin_, static_cast<size_t>(end_ - begin_));
        begin_ = end_ = nullptr;
    }

  private:
    std::string& out_;
    const char* begin_ = nullptr;
    const char* end_ = nullptr;
};

constexpr uint32_t bitOf(FieldName id) { return uint32_t{1} << static_cast<unsigned>(id); }

// Fields that describe one connection and never travel through a proxy (RFC 9110 7.6.1).
constexpr uint32_t kHopByHop = bitOf(FieldName::kConnection) | bitOf(FieldName::kKeepAlive) |
                               bitOf(FieldName::kProxyConnection) | bitOf(FieldName::kTe) |
                               bitOf(FieldName::kTrailer) | bitOf(FieldName::kTransferEncoding) |
                               bitOf(FieldName::kUpgrade);

// The forwarding fields we rewrite, and CGI lookalikes of them (X_Forwarded_For): Gunicorn
// before 22 maps both spellings to one variable, so a client could otherwise smuggle its own
// value next to ours.
constexpr uint32_t kForwarding = bitOf(FieldName::kXForwardedFor) |
                                 bitOf(FieldName::kXForwardedProto) |
                                 bitOf(FieldName::kXForwardedHost) | bitOf(FieldName::kVia) |
                                 bitOf(FieldName::kXForwardedLookalike);

bool isHopByHop(FieldName id) { return (kHopByHop & bitOf(id)) != 0; }
// Fields a trailer section does not carry on (RFC 9110 6.5.1): framing and routing were settled
// by the head, connection fields describe one hop, and the forwarding fields are sluice's own.
constexpr uint32_t kNotInTrailers = kHopByHop | bitOf(FieldName::kContentLength) |
                                    bitOf(FieldName::kHost) | bitOf(FieldName::kExpect);

bool isForwardingField(FieldName id) { return (kForwarding & bitOf(id)) != 0; }
bool isTrailerField(FieldName id) { return ((kNotInTrailers | kForwarding) & bitOf(id)) == 0; }

// The elements of every Connection field of a head, split once (as listHasToken splits them)
// rather than once per field the serializer asks about.
class ConnectionList {
  public:
    explicit ConnectionList(const HeaderList& h) : h_(h) {
        for (size_t i = h.find(FieldName::kConnection); i != HeaderList::npos;
             i = h.find(FieldName::kConnection, i + 1)) {
            const std::string_view list = h.value(i);
            size_t pos = 0;
            while (pos <= list.size()) {
                size_t comma = list.find(',', pos);
                if (comma == std::string_view::npos) comma = list.size();
                if (count_ == kMaxElements) {
                    overflow_ = true;
                    return;
                }
                elements_[count_++] = trimOws(list.substr(pos, comma - pos));
                pos = comma + 1;
            }
        }
    }

    // Whether a Connection field names `name` as hop-by-hop.
    bool lists(std::string_view name) const {
        if (overflow_) return listedSlowly(name);
        for (size_t i = 0; i < count_; ++i) {
            if (equalsIgnoreCase(elements_[i], name)) return true;
        }
        return false;
    }

  private:
    static constexpr size_t kMaxElements = 16;
    bool listedSlowly(std::string_view name) const {
        for (size_t i = h_.find(FieldName::kConnection); i != HeaderList::npos;
             i = h_.find(FieldName::kConnection, i + 1)) {
            if (listHasToken(h_.value(i), name)) return true;
        }
        return false;
    }

    const HeaderList& h_;
    std::string_view elements_[kMaxElements];
    size_t count_ = 0;
    bool overflow_ = false;
};

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

// Appends "Name: v1, v2, ..., extra" from every field of `h` named `id`.
void appendJoined(std::string& out, const HeaderList& h, std::string_view name, FieldName id,
                  std::string_view extra) {
    out += name;
    out += ": ";
    for (size_t i = h.find(id); i != HeaderList::npos; i = h.find(id, i + 1)) {
        if (h.value(i).empty()) continue;
        out += h.value(i);
        out += ", ";
    }
    out += extra;
    out += "\r\n";
}

// The first non-empty value of field `id`, or "".
std::string_view firstValue(const HeaderList& h, FieldName id) {
    for (size_t i = h.find(id); i != HeaderList::npos; i = h.find(id, i + 1)) {
        if (!h.value(i).empty()) return h.value(i);
    }
    return {};
}

// The framing field of a message sent with `framing` (none for kNone and kUntilClose).
void appendFraming(std::string& out, BodyFraming framing, uint64_t content_length) {
    switch (framing) {
        case BodyFraming::kContentLength:
            out += "Content-Length: ";
            appendNumber(out, content_length);
            out += "\r\n";
            break;
        case BodyFraming::kChunked:
            out += "Transfer-Encoding: chunked\r\n";
            break;
        case BodyFraming::kNone:
        case BodyFraming::kUntilClose:
            break;
    }
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
    const ConnectionList connection(h);
    LineCopier lines(out);
    for (size_t i = 0; i < h.size(); ++i) {
        const std::string_view name = h.name(i);
        const FieldName id = h.id(i);
        // Host and framing are decided here, whatever Connection lists.
        if (id == FieldName::kHost) {
            has_host = true;
            host = h.value(i);
            lines.add(h.line(i));
            continue;
        }
        if (id == FieldName::kContentLength) {
            had_length = true;
            continue;
        }
        if (head.upgrade && id == FieldName::kUpgrade) {
            lines.add(h.line(i));
            continue;
        }
        if (isHopByHop(id) || connection.lists(name)) continue;
        if (info.forwarded_headers && isForwardingField(id)) continue;  // rewritten below
        if (!info.request_id_header.empty() && equalsIgnoreCase(name, info.request_id_header)) {
            has_request_id = true;
        }
        lines.add(h.line(i));
    }
    lines.flush();
    if (!has_host) {
        host = absolute ? authority : std::string_view();
        appendField(out, "Host", host);
    }

    appendFraming(out, framing, head.content_length);
    if (had_length && (framing == BodyFraming::kNone || framing == BodyFraming::kUntilClose)) {
        out += "Content-Length: 0\r\n";  // keep "empty body" explicit
    }
    if (head.upgrade) {
        out += "Connection: upgrade\r\n";
    } else if (!keep_alive) {
        out += "Connection: close\r\n";
    }

    if (info.forwarded_headers) {
        if (info.trusted_client) {
            appendJoined(out, h, "X-Forwarded-For", FieldName::kXForwardedFor, info.client_ip);
        } else {
            appendField(out, "X-Forwarded-For", info.client_ip);
        }
        const std::string_view proto =
            info.trusted_client ? firstValue(h, FieldName::kXForwardedProto) : std::string_view();
        if (!proto.empty()) {
            appendField(out, "X-Forwarded-Proto", proto);
        } else {
            out += info.tls ? "X-Forwarded-Proto: https\r\n" : "X-Forwarded-Proto: http\r\n";
        }
        const std::string_view forwarded_host =
            info.trusted_client ? firstValue(h, FieldName::kXForwardedHost) : std::string_view();
        if (!forwarded_host.empty()) {
            appendField(out, "X-Forwarded-Host", forwarded_host);
        } else if (!host.empty()) {
            appendField(out, "X-Forwarded-Host", host);
        }
        // RFC 9110 7.6.3: the protocol version the request was received with.
        appendJoined(out, h, "Via", FieldName::kVia,
                     head.version_major == 2   ? "2.0 sluice"
                     : head.version_minor == 0 ? "1.0 sluice"
                                               : "1.1 sluice");
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
    const ConnectionList connection(h);
    LineCopier lines(out);
    for (size_t i = 0; i < h.size(); ++i) {
        const FieldName id = h.id(i);
        if (id == FieldName::kContentLength) {
            if (keep_length) lines.add(h.line(i));
            continue;
        }
        if (switching && id == FieldName::kUpgrade) {
            lines.add(h.line(i));
            continue;
        }
        if (isHopByHop(id) || connection.lists(h.name(i))) continue;
        lines.add(h.line(i));
    }
    lines.flush();
    appendFraming(out, framing, head.content_length);
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

uint64_t serializeErrorResponse(int status, bool close, std::string_view extra_headers,
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
    return body_len;
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

void serializeLastChunk(const HeaderList* trailers, std::string& out) {
    out += "0\r\n";
    if (trailers != nullptr) {
        LineCopier lines(out);
        for (size_t i = 0; i < trailers->size(); ++i) {
            if (isTrailerField(trailers->id(i))) lines.add(trailers->line(i));
        }
        lines.flush();
    }
    out += "\r\n";
}

}  // namespace sluice::http
