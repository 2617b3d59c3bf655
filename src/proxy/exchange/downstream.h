#pragma once
// What an Exchange needs from the client side of its request: an HTTP/1.1 connection (one
// exchange at a time, proxy/http/) or one HTTP/2 stream (many per connection, proxy/http2/).
// The exchange owns routing, the upstream attempts, the retry-or-fail decision, the response
// relay, the access log line and the metrics; the downstream owns the client's bytes: parsing,
// its own timeouts, encoding the response for its protocol and what happens after the exchange.
//
// Contract:
// - Calls come from inside Exchange methods, on the worker's thread. A downstream method must
//   not destroy the exchange; onExchangeEnd() is the exchange's last act (it touches nothing
//   after it returns), and from there on the downstream owns the end: it hands the exchange to
//   the worker's delete queue (ProxyContext::retire) and never calls it again.
// - Send results: kOk (keep going), kFull (the client side holds enough: the exchange stops
//   reading its upstream until Exchange::downstreamWritable()), kGone (the client or stream is
//   gone: the exchange aborts itself, logging client_abort, then onExchangeEnd(kClientGone)).
//   A downstream reports kGone only from a send; a client that goes away between sends is
//   reported with Exchange::abortForClient().

#include <cstdint>
#include <string_view>

#include "http/message.h"
#include "net/tcp_connection.h"

namespace sluice::proxy {

enum class SendResult : uint8_t { kOk, kFull, kGone };

// How an exchange ended, for the downstream's next step.
enum class ExchangeEnd : uint8_t {
    kComplete,    // the whole response was sent (sendResponseHead..endResponse)
    kLocal,       // a response made here (sendLocalResponse) was sent: HTTP/1.1 closes after it
    kCut,         // the response was cut after its head went out: reset the client (HTTP/1.1)
                  // or the stream (HTTP/2) so the truncation is visible
    kClientGone,  // the client went away (a send returned kGone, or abortForClient())
    kUpgraded,    // 101 Switching Protocols: the downstream took the upstream connection
                  // (HTTP/1.1 only; see Downstream::takeTunnel)
};

class Downstream {
  public:
    virtual ~Downstream() = default;

    // The client's connection: its address, TLS state and PROXY header addresses. Shared by
    // the streams of an HTTP/2 connection. Valid for the exchange's life.
    virtual const net::TcpConnection& client() const = 0;
    // Whether this downstream may keep the client connection after this response (it is not
    // draining); HTTP/1.1 uses it for Connection: close, HTTP/2 ignores it.
    virtual bool keepsConnection() const { return true; }

    // The exchange now takes request body bytes (an upstream connection is attached, or the
    // upstream drained what it had queued): deliver held ones with Exchange::requestBody().
    // Never called from inside Exchange::start() or Exchange::requestBody().
    virtual void resumeRequestBody() = 0;

    // An interim response the client can use: 100 Continue (once, only when the client asked
    // for it) or 103 Early Hints. Other 1xx never reach here.
    virtual SendResult sendInterim(const http::ResponseHead& head) = 0;
    // The final response head (status >= 200, or 101 when canTunnel()). `extra` holds header
    // lines the exchange adds ("Name: value\r\n" each: the request id). `request_complete`:
    // the whole request reached the exchange (HTTP/1.1 closes a connection whose request body
    // is still arriving). The downstream may hold the head back to send it with the first body
    // bytes; it must send it by the next flushResponse().
    virtual SendResult sendResponseHead(const http::ResponseHead& head, std::string_view extra,
                                        bool request_complete) = 0;
    // Decoded response body bytes (the downstream frames them: chunked, DATA frames).
    virtual SendResult sendResponseBody(std::string_view data) = 0;
    // The body is complete (after sendResponseHead and any sendResponseBody). `trailers`: the
    // upstream's trailer section (null or empty: none), as received; the downstream carries on
    // what its protocol can (HTTP/1.1: a chunked response's trailer section, through
    // http::serializeLastChunk; HTTP/2: a trailing HEADERS frame) and drops the rest.
    virtual SendResult endResponse(const http::HeaderList* trailers) = 0;
    // Whatever the downstream held back goes out now (called once a batch of upstream bytes
    // has been relayed).
    virtual SendResult flushResponse() = 0;

    // A complete response made by sluice: status, the standard short body, `extra` header
    // lines (Retry-After, Location, the request id). Returns the bytes it makes (for the
    // access log); a client that is gone is the downstream's to notice (it ends anyway).
    virtual uint64_t sendLocalResponse(int status, std::string_view extra) = 0;

    // 101 Switching Protocols (HTTP/1.1 only): sendResponseHead() had the 101 head; now the
    // downstream takes `upstream` (it must set itself as the handler) and relays bytes both
    // ways; `rest` holds the upstream's bytes after the head. onExchangeEnd(kUpgraded) follows.
    // A downstream that cannot tunnel (HTTP/2) never sees a 101: the attempt counts as broken.
    virtual bool canTunnel() const { return false; }
    virtual void takeTunnel(net::TcpConnection* upstream, std::string_view rest) {
        (void)rest;
        upstream->destroy();
    }

    // The exchange is over; its last act (see the contract above).
    virtual void onExchangeEnd(ExchangeEnd end) = 0;
};

}  // namespace sluice::proxy
