#pragma once
// Turns the header block of an HTTP/2 request (the fields nghttp2 decoded, in order) into the
// HTTP/1.1 view an upstream receives: an http::RequestHead with `Host` from :authority (or
// host), the cookie crumbs joined with "; ", no pseudo-header and nothing connection-specific.
// Pure: no nghttp2, no I/O; reused from request to request without allocating once warm.
//
// nghttp2 (HTTP messaging checks on, see server_session.cc) has already reset a stream whose
// names are not lowercase tokens, whose values hold CR/LF/NUL/other controls or edge
// whitespace, which repeats or misplaces a pseudo-header, lacks :method/:scheme/:path or both
// :authority and host, names a connection-specific field or a te other than "trailers", or
// repeats content-length. Those checks are repeated here (cheap, and this class must be safe on
// its own); what nghttp2 does not check is only here:
// - 400: :scheme other than http/https; :path with bytes outside 0x21-0x7e or a '#'; an
//        :authority or host that is not host[:port] (userinfo, empty, bad port: the rules of
//        http::isValidAuthority); :authority and host naming different origins; a
//        content-length of more than 19 digits; the method PRI; a body announced by
//        content-length on a request whose HEADERS ended the stream.
// - 431: the fields (pseudo-headers included, each counted as "name: value\r\n") exceed
//        max_header_bytes, or there are more than max_headers regular fields.
// - 413: content-length above max_body_bytes (0 = unlimited).
// - 501: CONNECT (sluice opens no tunnels). Extended CONNECT (:protocol) never gets here:
//        SETTINGS_ENABLE_CONNECT_PROTOCOL is not advertised, so nghttp2 resets it.

#include <cstdint>
#include <string>
#include <string_view>

#include "http/message.h"
#include "http/request_validator.h"

namespace sluice::http2 {

struct HeadLimits {
    uint32_t max_header_bytes = 32 * 1024;
    uint32_t max_headers = 100;
    uint64_t max_body_bytes = 0;  // 0 = unlimited
};

class RequestHeadBuilder {
  public:
    // A new request header block; forgets the previous request (keeps buffer capacity).
    void start(const HeadLimits& limits);
    // One decoded field of the block, in the order received. Never fails: the verdict waits for
    // finish(), and nothing is stored once the block is over the limits.
    void addField(std::string_view name, std::string_view value);
    // End of the block. `end_stream`: the HEADERS frame ended the stream (no body follows).
    // ok(): head() is the request, with framing kNone (no body), kContentLength, or kChunked
    // (a body of unknown length follows); version 2.0, keep_alive true, upgrade false.
    http::Verdict finish(bool end_stream);
    http::RequestHead& head() { return head_; }
    std::string_view scheme() const { return scheme_; }

    // The trailer block of the same request (after its DATA, with END_STREAM). Pseudo-headers
    // and invalid fields make it invalid; content-length, host, te, trailer and expect are
    // dropped (framing and routing were decided by the head); the same limits apply.
    void startTrailers();
    void addTrailer(std::string_view name, std::string_view value);
    enum class TrailerVerdict : uint8_t { kOk, kTooLarge, kInvalid };
    TrailerVerdict finishTrailers() const;
    const http::HeaderList& trailers() const { return trailers_; }
    // Field bytes of the last head and trailers (what the buffers grew to hold).
    uint64_t heldFieldBytes() const { return bytes_ + trailer_bytes_; }

  private:
    void addPseudo(std::string_view name, std::string_view value);
    void addRegular(std::string_view name, std::string_view value);
    void addHost(std::string_view authority);
    void fail(const char* reason) {
        if (error_ == nullptr) error_ = reason;
    }

    HeadLimits limits_;
    http::RequestHead head_;
    std::string scheme_;
    std::string authority_;
    std::string cookie_;
    http::HeaderList trailers_;
    uint64_t bytes_ = 0;
    uint32_t fields_ = 0;
    uint64_t content_length_ = 0;
    const char* error_ = nullptr;  // first 400 reason
    bool oversized_ = false;
    bool saw_regular_ = false;
    bool has_method_ = false, has_path_ = false, has_scheme_ = false, has_authority_ = false;
    bool has_host_field_ = false;  // a regular host field was seen
    bool host_added_ = false;      // Host is in head_.headers
    bool has_content_length_ = false;
    uint64_t trailer_bytes_ = 0;
    uint32_t trailer_fields_ = 0;
    TrailerVerdict trailer_verdict_ = TrailerVerdict::kOk;
};

}  // namespace sluice::http2
