#pragma once
// What an Exchange borrows from its worker for its life: the parts whose set-up or buffer
// capacity is worth keeping between requests (the response parser, the response timer, the
// serialized request head and the other per-request strings). An exchange is created and
// destroyed per request; its parts are not: they come back cleared (no field of a finished
// request survives) with their capacity, so a keep-alive request does not allocate for them,
// and an idle client connection holds none of them.
// The timer's callback and the parser's handler are bound once, for the parts' life: they reach
// whichever exchange holds the parts (attach()), and nobody while the parts are pooled. A
// pooled timer may still be armed for a past deadline (DeadlineTimer moves deadlines without
// re-arming libuv; disarming and re-arming per request would cost a libuv timer stop and start
// each): it then fires once more, does nothing, and keeps the loop alive until it does, so a
// worker that stops closes the pool (close()).
// Loop thread only. The pool keeps at most kMaxSpare parts; big buffers are dropped.

#include <memory>
#include <string>
#include <vector>

#include "http/response_parser.h"
#include "loop/deadline_timer.h"
#include "loop/uv_types.h"

namespace sluice::proxy {

struct ExchangeParts {
    // The exchange holding the parts.
    class Owner {
      public:
        virtual void onResponseTimeout() = 0;  // `timer` expired

      protected:
        ~Owner() = default;
    };

    explicit ExchangeParts(uv_loop_t* loop);
    // The parser's events go to `handler` and the timer's expiry to `owner` until clear().
    void attach(Owner& owner, http::ResponseHandler& handler);
    // Back to the state of new parts (no owner, parser reset, timer stopped, strings empty).
    void clear();

    Owner* owner = nullptr;
    http::ResponseParser parser;  // its handler is the owner's
    loop::DeadlineTimer timer;    // response_timeout
    std::string head_out;         // serialized request head (kept for a retry)
    std::string request_end;      // a chunked request's last chunk + trailers (kept for a retry)
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
    // The worker stops: spare parts go now (their timers with them), and parts given back from
    // now on are destroyed, so no pooled timer keeps the loop alive.
    void close();

  private:
    uv_loop_t* loop_;
    std::vector<std::unique_ptr<ExchangeParts>> spare_;
    bool closed_ = false;
};

}  // namespace sluice::proxy
