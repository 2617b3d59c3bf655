#pragma once
// Strict HTTP/1.1 request parser over llhttp (through http/message_parser.h, which it shares
// with ResponseParser). Per connection, not thread-safe. Never throws, never asserts on input.
//
// Contract:
// - feed() parses bytes and calls the handler: onRequestHead once the head is complete and has
//   passed every validation check (limits, Host, framing, desync rules), then onRequestBody for
//   each slice of *decoded* body (chunk framing removed; slices point into the fed bytes and are
//   valid only during the call), then onRequestComplete.
// - After onRequestComplete the parser pauses: feed() returns kPaused with `consumed` at the end
//   of that request; the caller keeps the rest (pipelined bytes) and calls resume() before
//   feeding them again. A handler may also pause earlier by returning Action::kPause from
//   onRequestHead/onRequestBody (backpressure); the slice passed to the pausing call counts as
//   consumed.
// - After an Upgrade request (head.upgrade) is complete, the parser stops: feed() returns
//   kUpgraded; bytes after `consumed` belong to the tunnel.
// - Any violation returns kError with the HTTP status to answer (400, 408 is the caller's, 413,
//   414, 431, 501, 505) and a short reason; the connection must then be closed. A head whose
//   framing llhttp reads differently from the validator is one (400). No handler call is
//   made for a request that fails validation of its head, nor for anything pipelined after it.
//   Errors found in a chunked body (bad chunk line, 413 while streaming) necessarily come after
//   onRequestHead/onRequestBody; onRequestComplete is then never called. Errors are sticky.
// - A kPause returned by onRequestHead for a request without body, or by onRequestBody for the
//   last bytes of a Content-Length body, is not needed and ignored: the request completes at
//   once and feed() returns kPaused after onRequestComplete as usual. So every kPaused leaves
//   the parser waiting for bytes, and resume() + feed(rest) is always enough to progress.
// - Trailer fields of a chunked body are checked and kept in trailers() until the next request
//   starts (the exchange forwards what a trailer may carry: http/serializer.h).
// - After a request with keep_alive == false (HTTP/1.0 without keep-alive, Connection: close),
//   any further byte is a 400: llhttp's strict mode refuses data after such a request.
// - Only `Upgrade: websocket` (GET, HTTP/1.1, Connection: upgrade) sets head.upgrade; other
//   Upgrade values are ignored and the request is parsed as plain HTTP.

#include <cstdint>
#include <string_view>

#include "http/message_parser.h"

namespace sluice::http {

struct RequestLimits {
    uint64_t max_header_bytes = 32 * 1024;  // request line + headers; else 431 (414 for the line)
    unsigned max_headers = 100;             // else 431
    uint64_t max_body_bytes = 0;            // 0 = unlimited; else 413
};

class RequestHandler {
  public:
    virtual ~RequestHandler() = default;
    virtual Action onRequestHead(RequestHead& head) = 0;
    virtual Action onRequestBody(std::string_view decoded) = 0;
    virtual void onRequestComplete() = 0;
};

class RequestParser final : public MessageParser<RequestParser, RequestHead> {
  public:
    RequestParser(RequestHandler& handler, const RequestLimits& limits);

    // Back to the state of a new parser with this handler and these limits, keeping the
    // capacity of its buffers (a parser kept by a per-worker pool serves one connection at a
    // time, and only while a request is arriving or in flight).
    void reset(RequestHandler& handler, const RequestLimits& limits);
    // Only the handler, the state left as it is: for a parser that is reset() before its next
    // use (a pooled one) and must not point at its last user meanwhile.
    void setHandler(RequestHandler& handler) { handler_ = &handler; }

    [[nodiscard]] FeedResult feed(std::string_view bytes);
    // True while a request head has started arriving but is not complete (for 408 vs silent close).
    bool inHead() const;
    // True when no byte of a next request has been seen since the last complete one.
    bool idle() const;

  private:
    friend class MessageParser<RequestParser, RequestHead>;
    int headersComplete(llhttp_t* p);
    int messageComplete(llhttp_t* p);
    Action deliverBody(std::string_view decoded);
    void failLlhttp(llhttp_errno_t err);

    RequestHandler* handler_;
};

extern template class MessageParser<RequestParser, RequestHead>;

}  // namespace sluice::http
