#include "health/health_state.h"

#include <algorithm>

namespace sluice::health {

HealthState::HealthState(bool up, unsigned rise, unsigned fall)
    : up_(up), rise_(std::max(1u, rise)), fall_(std::max(1u, fall)) {}

void HealthState::setThresholds(unsigned rise, unsigned fall) {
    rise_ = std::max(1u, rise);
    fall_ = std::max(1u, fall);
}

HealthState::Transition HealthState::record(bool passed) {
    if (passed) {
        ++passes_;
        fails_ = 0;
    } else {
        ++fails_;
        passes_ = 0;
    }
    const bool first = !checked_;
    checked_ = true;
    bool next = up_;
    if (first) {
        next = passed;  // the first check decides at once, in both directions
    } else if (up_ && fails_ >= fall_) {
        next = false;
    } else if (!up_ && passes_ >= rise_) {
        next = true;
    }
    if (next == up_) return Transition::kNone;
    up_ = next;
    return up_ ? Transition::kWentUp : Transition::kWentDown;
}

}  // namespace sluice::health
