#pragma once
// The rise/fall state machine of one actively checked server. Pure: no I/O, no clock.
//
// Contract:
// - The FIRST recorded result is decisive: it sets the state directly (a server present at start
//   begins up and goes down at once on a failed first check; a server added later begins down and
//   goes up on its first passing check), as shared/design/config.md requires.
// - After that, `fall` CONSECUTIVE failures turn an up server down and `rise` CONSECUTIVE passes
//   turn a down server up. A result of the other kind resets the opposite run.
// - passes()/fails() are the current consecutive runs; they keep counting past the threshold.

#include <cstdint>

namespace sluice::health {

class HealthState {
  public:
    enum class Transition : uint8_t { kNone, kWentUp, kWentDown };

    HealthState(bool up, unsigned rise, unsigned fall);

    // New thresholds (reload); the current runs are kept and apply from the next result.
    void setThresholds(unsigned rise, unsigned fall);
    Transition record(bool passed);

    bool up() const { return up_; }
    bool checked() const { return checked_; }  // at least one result recorded
    unsigned passes() const { return passes_; }
    unsigned fails() const { return fails_; }
    unsigned rise() const { return rise_; }
    unsigned fall() const { return fall_; }

  private:
    bool up_;
    bool checked_ = false;
    unsigned rise_;
    unsigned fall_;
    unsigned passes_ = 0;
    unsigned fails_ = 0;
};

}  // namespace sluice::health
