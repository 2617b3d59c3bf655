#pragma once
// What an HttpSession borrows from its worker only while a request is arriving or in flight:
// the request parser (llhttp state, header scanner, the head's header storage) and the session's
// byte buffers. An idle keep-alive connection holds none of it; it takes parts when the first
// byte of its next request arrives and gives them back when the exchange ends with nothing
// pipelined behind it. Parts come back cleared (no byte of a finished request survives) with
// their capacity, so a busy keep-alive connection does not allocate for them.
// Loop thread only. The pool keeps at most kMaxSpare parts; big buffers are dropped.

#include <memory>
#include <string>
#include <vector>

#include "http/request_parser.h"

namespace sluice::proxy {

struct HttpSessionParts {
    HttpSessionParts();
    // Ready for the pool: strings empty, the parser's handler a no-op (take() resets the parser).
    void clear();

    http::RequestParser parser;  // its handler is the session's (RequestParser::reset)
    std::string client_in;       // client bytes not yet parsed (parser paused)
    std::string response_head;   // serialized response head, sent with the first body bytes
    std::string scratch;         // local responses, interim heads
};

class HttpSessionPartsPool {
  public:
    static constexpr size_t kMaxSpare = 256;
    // Parts whose parser reports to `handler` under `limits`.
    std::unique_ptr<HttpSessionParts> take(http::RequestHandler& handler,
                                           const http::RequestLimits& limits);
    void give(std::unique_ptr<HttpSessionParts> parts);
    size_t spare() const { return spare_.size(); }
    // Frees spare parts beyond `keep` (a worker whose connections went idle).
    void shrink(size_t keep);

  private:
    std::vector<std::unique_ptr<HttpSessionParts>> spare_;
};

}  // namespace sluice::proxy
