#include "http2/request_head_builder.h"

#include "http/ascii.h"
#include "http/field_rules.h"
#include "http/header_list.h"
#include "http2/field_checks.h"

namespace sluice::http2 {

namespace {

using http::FieldName;
using http::Verdict;

constexpr Verdict rejectHead(int status, const char* reason) { return Verdict{status, reason}; }

// Each field as the bytes it occupies in an HTTP/1.1 head ("name: value\r\n"), pseudo-headers
// included: the limit means the same thing for both protocols.
constexpr uint64_t fieldBytes(std::string_view name, std::string_view value) {
    return name.size() + value.size() + 4;
}

// request-target bytes of origin-form: visible ASCII, and no fragment.
bool isValidPath(std::string_view path) {
    for (char c : path) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == '#') return false;
    }
    return true;
}

bool isMethodToken(std::string_view method) {
    if (method.empty()) return false;
    for (char c : method) {
        if (!http::isTokenChar(c)) return false;
    }
    return true;
}

// Fields a trailer section cannot carry to an HTTP/1.1 upstream: framing and routing were
// settled by the head (RFC 9110 6.5.1).
bool droppedFromTrailers(FieldName id) {
    return id == FieldName::kContentLength || id == FieldName::kHost || id == FieldName::kTe ||
           id == FieldName::kTrailer || id == FieldName::kExpect;
}

bool isConnectionSpecific(FieldName id) {
    return id == FieldName::kConnection || id == FieldName::kKeepAlive ||
           id == FieldName::kProxyConnection || id == FieldName::kTransferEncoding ||
           id == FieldName::kUpgrade;
}

}  // namespace

void RequestHeadBuilder::start(const HeadLimits& limits) {
    limits_ = limits;
    head_.clear();
    head_.version_major = 2;
    head_.version_minor = 0;
    scheme_.clear();
    authority_.clear();
    cookie_.clear();
    trailers_.clear();
    bytes_ = 0;
    fields_ = 0;
    content_length_ = 0;
    error_ = nullptr;
    oversized_ = false;
    saw_regular_ = false;
    has_method_ = has_path_ = has_scheme_ = has_authority_ = false;
    has_host_field_ = false;
    host_added_ = false;
    has_content_length_ = false;
}

void RequestHeadBuilder::addField(std::string_view name, std::string_view value) {
    bytes_ += fieldBytes(name, value);
    if (bytes_ > limits_.max_header_bytes) oversized_ = true;
    if (!name.empty() && name[0] == ':') {
        addPseudo(name, value);
        return;
    }
    if (!saw_regular_) {
        saw_regular_ = true;
        // Pseudo-headers all come first: :authority is known by now, and Host leads the list.
        if (has_authority_) addHost(authority_);
    }
    if (++fields_ > limits_.max_headers) oversized_ = true;
    if (oversized_ || error_ != nullptr) return;  // the verdict is known: store nothing more
    addRegular(name, value);
}

void RequestHeadBuilder::addPseudo(std::string_view name, std::string_view value) {
    if (saw_regular_) return fail("pseudo-header after a regular field");
    if (oversized_) return;
    bool* seen = nullptr;
    std::string* into = nullptr;
    if (name == ":method") {
        seen = &has_method_;
        into = &head_.method;
    } else if (name == ":path") {
        seen = &has_path_;
        into = &head_.target;
    } else if (name == ":scheme") {
        seen = &has_scheme_;
        into = &scheme_;
    } else if (name == ":authority") {
        seen = &has_authority_;
        into = &authority_;
    } else {
        return fail("unknown pseudo-header");  // :protocol, :status, anything else
    }
    if (*seen) return fail("repeated pseudo-header");
    if (value.empty()) return fail("empty pseudo-header");
    *seen = true;
    into->assign(value);
}

void RequestHeadBuilder::addRegular(std::string_view name, std::string_view value) {
    if (!isLowercaseToken(name)) return fail("invalid field name");
    if (!isValidFieldValue(value)) return fail("invalid field value");
    const FieldName id = http::classifyFieldName(name);
    if (isConnectionSpecific(id)) return fail("connection-specific field");
    switch (id) {
        case FieldName::kHost:
            if (has_host_field_) return fail("repeated host");
            has_host_field_ = true;
            if (!http::isValidAuthority(value)) return fail("invalid host");
            if (!has_authority_) return addHost(value);
            if (!http::isValidAuthority(authority_)) return fail("invalid :authority");
            if (!http::sameAuthority(authority_, value,
                                     http::equalsIgnoreCase(scheme_, "https")
                                         ? std::string_view("443")
                                         : std::string_view("80"))) {
                return fail(":authority and host differ");
            }
            return;  // the same origin as :authority, which is already Host
        case FieldName::kTe:
            // Only "trailers" is allowed, and it is hop-by-hop: not forwarded.
            if (!http::equalsIgnoreCase(value, "trailers")) fail("te other than trailers");
            return;
        case FieldName::kContentLength:
            if (has_content_length_) return fail("repeated content-length");
            has_content_length_ = true;
            if (!http::parseContentLength(value, content_length_)) {
                return fail("invalid content-length");
            }
            break;
        default:
            break;
    }
    if (name == "cookie") {
        // RFC 9113 8.2.3: crumbs are joined for an HTTP/1.1 hop.
        if (value.empty()) return;
        if (!cookie_.empty()) cookie_ += "; ";
        cookie_ += value;
        return;
    }
    head_.headers.add(name, value);
}

void RequestHeadBuilder::addHost(std::string_view authority) {
    if (host_added_) return;
    host_added_ = true;
    head_.headers.add("host", authority);
}

http::Verdict RequestHeadBuilder::finish(bool end_stream) {
    if (!saw_regular_ && has_authority_ && !oversized_) addHost(authority_);
    if (oversized_) return rejectHead(431, "request header fields too large");
    if (error_ != nullptr) return rejectHead(400, error_);
    if (!has_method_) return rejectHead(400, "missing :method");
    // CONNECT carries :authority only; refuse it before looking for :scheme and :path.
    if (head_.method == "CONNECT") return rejectHead(501, "CONNECT not supported");
    if (!isMethodToken(head_.method)) return rejectHead(400, "invalid :method");
    if (head_.method == "PRI") return rejectHead(400, "PRI method");
    if (!has_scheme_) return rejectHead(400, "missing :scheme");
    if (!http::equalsIgnoreCase(scheme_, "http") && !http::equalsIgnoreCase(scheme_, "https")) {
        return rejectHead(400, "unsupported :scheme");
    }
    if (!has_path_) return rejectHead(400, "missing :path");
    if (head_.target == "*") {
        if (head_.method != "OPTIONS") return rejectHead(400, "asterisk :path");
    } else if (head_.target[0] != '/' || !isValidPath(head_.target)) {
        return rejectHead(400, "invalid :path");
    }
    if (has_authority_ && !http::isValidAuthority(authority_)) {
        return rejectHead(400, "invalid :authority");
    }
    if (!host_added_) return rejectHead(400, "missing :authority and host");
    if (!cookie_.empty()) head_.headers.add("cookie", cookie_);

    head_.keep_alive = true;
    head_.upgrade = false;
    head_.content_length = 0;
    if (has_content_length_) {
        if (end_stream && content_length_ > 0) {
            return rejectHead(400, "content-length on a request without body");
        }
        if (limits_.max_body_bytes != 0 && content_length_ > limits_.max_body_bytes) {
            return rejectHead(413, "body too large");
        }
        head_.content_length = content_length_;
        head_.framing =
            content_length_ > 0 ? http::BodyFraming::kContentLength : http::BodyFraming::kNone;
    } else {
        head_.framing = end_stream ? http::BodyFraming::kNone : http::BodyFraming::kChunked;
    }
    const size_t expect = head_.headers.find(FieldName::kExpect);
    head_.expect_continue = !end_stream && expect != http::HeaderList::npos &&
                            http::equalsIgnoreCase(head_.headers.value(expect), "100-continue");
    return {};
}

void RequestHeadBuilder::startTrailers() {
    trailers_.clear();
    trailer_bytes_ = 0;
    trailer_fields_ = 0;
    trailer_verdict_ = TrailerVerdict::kOk;
}

void RequestHeadBuilder::addTrailer(std::string_view name, std::string_view value) {
    if (trailer_verdict_ != TrailerVerdict::kOk) return;
    trailer_bytes_ += fieldBytes(name, value);
    if (trailer_bytes_ > limits_.max_header_bytes || ++trailer_fields_ > limits_.max_headers) {
        trailer_verdict_ = TrailerVerdict::kTooLarge;
        return;
    }
    if (!isLowercaseToken(name) || !isValidFieldValue(value)) {
        trailer_verdict_ = TrailerVerdict::kInvalid;  // pseudo-headers included (':')
        return;
    }
    const FieldName id = http::classifyFieldName(name);
    if (isConnectionSpecific(id)) {
        trailer_verdict_ = TrailerVerdict::kInvalid;
        return;
    }
    if (droppedFromTrailers(id)) return;
    trailers_.add(name, value);
}

RequestHeadBuilder::TrailerVerdict RequestHeadBuilder::finishTrailers() const {
    return trailer_verdict_;
}

}  // namespace sluice::http2
