#pragma once
// Per-connection count of protocol "glitches": things a correct client does rarely and an
// abusive one does in bulk because each costs it little and the server more. Past the limit the
// connection is closed with GOAWAY(ENHANCE_YOUR_CALM). No clock: the count never decays, so a
// connection's whole life is bounded (a client that reconnects pays a new handshake each time).
//
// Glitches (one each): a frame or header block nghttp2 rejects (stream or connection error,
// WINDOW_UPDATE of 0 included), a request refused by the session's own checks (400/413/431/501),
// a DATA frame with no payload and no END_STREAM, a stream the client resets before its
// response started (rapid reset), and every control frame past the control-frame credit.
//
// Control frames are PING, SETTINGS, PRIORITY, GOAWAY, PRIORITY_UPDATE and frames of unknown
// type (ACKs included; seen by FrameScanner, even those nghttp2 skips): each takes one credit; the
// credit starts at kControlCredit and every stream the client opens adds kControlCreditPerStream
// (up to kMaxControlCredit), so a busy connection may ping and reprioritise while an idle flood
// runs dry quickly.

#include <cstdint>

namespace sluice::http2 {

class GlitchCounter {
  public:
    static constexpr uint32_t kControlCredit = 100;
    static constexpr uint32_t kControlCreditPerStream = 2;
    static constexpr uint32_t kMaxControlCredit = 1000;

    explicit GlitchCounter(uint32_t limit) : limit_(limit) {}

    // Each returns true once the count has gone past the limit (and from then on).
    bool glitch() { return ++count_ > limit_; }
    bool controlFrame() {
        if (credit_ > 0) {
            --credit_;
            return count_ > limit_;
        }
        return glitch();
    }
    void streamOpened() {
        credit_ = credit_ + kControlCreditPerStream > kMaxControlCredit
                      ? kMaxControlCredit
                      : credit_ + kControlCreditPerStream;
    }

    uint32_t count() const { return count_; }
    bool exceeded() const { return count_ > limit_; }

  private:
    uint32_t limit_;
    uint32_t count_ = 0;
    uint32_t credit_ = kControlCredit;
};

}  // namespace sluice::http2
