#pragma once
// Strict HTTP/1.1 response parser over llhttp, for upstream responses. Per upstream connection.
//
// Contract (mirrors RequestParser):
// - setRequestMethod() before each response so HEAD responses are framed without a body.
// - 1xx informational responses (100 Continue, 103) are reported with onInterimResponse and do
//   not end the exchange; more than kMaxInterimResponses before one final response is kError
//   502. A 101 reports onResponseHead with status 101 and then feed() returns kUpgraded (bytes
//   after `consumed` are tunnel data; no onResponseComplete for a 101).
// - onResponseHead (validated: framing, CL/TE conflicts, bad headers), onResponseBody (decoded
//   slices), onResponseComplete (a chunked response's trailer section is in trailers() by
//   then); then feed() returns kPaused until resume().
// - kError (status 502 always) when the upstream's framing or syntax is bad; the upstream
//   connection must be discarded.
// - finish() is called when the upstream closes: completes a kUntilClose body (kOk after
//   onResponseComplete), or reports a truncated response as an error; EOF before any byte of an
//   expected response (setRequestMethod called) is an error too, EOF on an idle connection kOk.
// - Framing rules are those of requests: CL with TE, repeated or malformed CL, TE other than a
//   single `chunked`, TE on HTTP/1.0, bare CR/LF, obs-fold, versions other than 1.0/1.1, a head
//   over max_header_bytes, framing llhttp reads differently: all kError 502. HEAD, 1xx, 204 and
//   304 responses have no body.
// - Pauses requested by the handler follow RequestParser's rules (ignored when the response
//   completes without more input).

#include <cstdint>
#include <string_view>

#include "http/message_parser.h"
#include "http/request_parser.h"

namespace sluice::http {

// Interim (1xx) responses accepted before a final one. A server has reason to send a 100
// Continue and a few 103 Early Hints; beyond that it is broken or flooding us (each costs a
// parse, and whatever the handler relays).
constexpr unsigned kMaxInterimResponses = 8;

class ResponseHandler {
  public:
    virtual ~ResponseHandler() = default;
    virtual void onInterimResponse(const ResponseHead& head) = 0;  // 100, 102, 103
    virtual Action onResponseHead(ResponseHead& head) = 0;
    virtual Action onResponseBody(std::string_view decoded) = 0;
    virtual void onResponseComplete() = 0;
};

class ResponseParser final : public MessageParser<ResponseParser, ResponseHead> {
  public:
    explicit ResponseParser(ResponseHandler& handler, uint64_t max_header_bytes = 64 * 1024);

    // Who gets the events from now on (a parser kept by a pool serves one exchange at a time).
    void setHandler(ResponseHandler& handler) { handler_ = &handler; }
    void setRequestMethod(std::string_view method);
    [[nodiscard]] FeedResult feed(std::string_view bytes);
    [[nodiscard]] FeedResult finish();  // upstream EOF
    // Back to the state of a new parser (for a response on another connection), keeping the
    // capacity of its buffers so steady-state parsing does not allocate.
    void reset();
    // No byte of the current response has been seen yet (a pooled connection that dies now may
    // be retried for an idempotent request).
    bool started() const { return started_; }

  private:
    friend class MessageParser<ResponseParser, ResponseHead>;
    int headersComplete(llhttp_t* p);
    int messageComplete(llhttp_t* p);
    Action deliverBody(std::string_view decoded);
    void messageEnded(Stop how);

    ResponseHandler* handler_;
    bool head_request_ = false;  // the request was HEAD: no body whatever the headers say
    bool expecting_ = false;     // setRequestMethod() called, response not complete yet
    bool started_ = false;
    unsigned interim_responses_ = 0;  // before the current final response
};

extern template class MessageParser<ResponseParser, ResponseHead>;

}  // namespace sluice::http
