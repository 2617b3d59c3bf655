#pragma once
// What an Exchange borrows from its worker for its life: the parts whose set-up or buffer
// capacity is worth keeping between requests (the response parser, the response timer, the
// serialized request head and the other per-request strings). An exchange is created and
// destroyed per request; its parts are not: they come back cleared (no field of a finished
// request survives) with their capacity, so a keep-alive request does not allocate for them,
// and an idle client connection holds none of them.
// Loop thread only. The pool keeps at most kMaxSpare parts; big buffers are dropped.

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "http/response_parser.h"
#include "loop/deadline_timer.h"

namespace sluice::proxy {

struct ExchangeParts {
    explicit ExchangeParts(uv_loop_t* loop);
    // Back to the state of new parts (parser reset, timer stopped, strings empty).
    void clear();

    http::ResponseParser parser;  // its handler is the exchange's (setHandler)
    loop::DeadlineTimer timer;    // response_timeout; its callback is the exchange's
    std::string head_out;         // serialized request head (kept for a retry)
    std::string upstream_in;      // upstream bytes held back (client backpressure)
    std::string extra;            // header lines the exchange adds to its responses
    std::string request_id;       // the request id header's value (kept or generated)
};

class ExchangePartsPool {
  public:
    static constexpr size_t kMaxSpare = 256;
    explicit ExchangePartsPool(uv_loop_t* loop) : loop_(loop) {}
    std::unique_ptr<ExchangeParts> take();
    void give(std::unique_ptr<ExchangeParts> parts);
    size_t spare() const { return spare_.size(); }

  private:
    uv_loop_t* loop_;
    std::vector<std::unique_ptr<ExchangeParts>> spare_;
};

}  // namespace sluice::proxy
