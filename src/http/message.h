#pragma once
// Parsed HTTP/1.x message heads and how their bodies are framed.

#include <cstdint>
#include <string>
#include <string_view>

#include "http/header_list.h"

namespace sluice::http {

// Chunked bodies, in both directions. Chunk extensions are legal but unused; a peer sending
// kilobytes of them per chunk is probing (or trying to exhaust) the parser.
constexpr uint64_t kMaxChunkExtensionBytes = 4096;
// Framing bytes between two pieces of chunk data: CRLF, the size (llhttp accepts any number of
// leading zeros) and extensions. Bounds a body that never makes progress.
constexpr uint64_t kMaxChunkFramingBytes = kMaxChunkExtensionBytes + 512;

enum class BodyFraming {
    kNone,           // no body (GET without CL, HEAD/204/304/1xx responses, CL: 0)
    kContentLength,  // exactly content_length bytes
    kChunked,        // Transfer-Encoding: chunked (final, single coding)
    kUntilClose,     // responses only: body runs until the upstream closes
};

// What request and response heads have in common.
struct MessageHead {
    uint8_t version_major = 1;
    uint8_t version_minor = 1;
    HeaderList headers;  // as received, in order (hop-by-hop removal is the serializer's job)
    BodyFraming framing = BodyFraming::kNone;
    uint64_t content_length = 0;  // valid when framing == kContentLength
    bool keep_alive = true;       // request: the client wants the connection kept (version +
                                  // Connection); response: the upstream connection may be reused

  protected:
    // Back to a fresh head, keeping every buffer's capacity (a keep-alive connection does not
    // allocate).
    void clearMessage();
};

struct RequestHead : MessageHead {
    std::string method;             // e.g. "GET" (llhttp's name for the method)
    std::string target;             // request-target exactly as received
    bool upgrade = false;           // Connection: upgrade + Upgrade present (e.g. websocket)
    bool expect_continue = false;   // Expect: 100-continue
    std::string_view host() const;  // Host header value ("" when absent)
    void clear();
};

struct ResponseHead : MessageHead {
    int status = 0;
    std::string reason;
    void clear();
};

}  // namespace sluice::http
