#include "health/health_state.h"

#include <gtest/gtest.h>

namespace sluice::health {
namespace {

using T = HealthState::Transition;

TEST(HealthState, ServerPresentAtStartGoesDownOnAFailedFirstCheck) {
    HealthState s(true, 2, 3);
    EXPECT_EQ(s.record(false), T::kWentDown);
    EXPECT_FALSE(s.up());
    EXPECT_TRUE(s.checked());
}

TEST(HealthState, ServerPresentAtStartStaysUpOnAPassingFirstCheck) {
    HealthState s(true, 2, 3);
    EXPECT_EQ(s.record(true), T::kNone);
    EXPECT_TRUE(s.up());
}

TEST(HealthState, ServerAddedLaterJoinsOnItsFirstPassingCheck) {
    HealthState s(false, 5, 3);
    EXPECT_EQ(s.record(true), T::kWentUp);
    EXPECT_TRUE(s.up());
}

TEST(HealthState, ServerAddedLaterStaysDownOnAFailedFirstCheckThenNeedsRise) {
    HealthState s(false, 2, 3);
    EXPECT_EQ(s.record(false), T::kNone);
    EXPECT_FALSE(s.up());
    EXPECT_EQ(s.record(true), T::kNone);
    EXPECT_EQ(s.record(true), T::kWentUp);
}

TEST(HealthState, FallConsecutiveFailuresTurnAnUpServerDown) {
    HealthState s(true, 2, 3);
    s.record(true);
    EXPECT_EQ(s.record(false), T::kNone);
    EXPECT_EQ(s.record(false), T::kNone);
    EXPECT_EQ(s.fails(), 2u);
    EXPECT_EQ(s.record(false), T::kWentDown);
    EXPECT_EQ(s.fails(), 3u);
    EXPECT_EQ(s.record(false), T::kNone);  // already down; the run keeps counting
    EXPECT_EQ(s.fails(), 4u);
}

TEST(HealthState, APassResetsTheFailureRun) {
    HealthState s(true, 2, 3);
    s.record(true);
    s.record(false);
    s.record(false);
    EXPECT_EQ(s.record(true), T::kNone);
    EXPECT_EQ(s.fails(), 0u);
    EXPECT_EQ(s.passes(), 1u);
    s.record(false);
    s.record(false);
    EXPECT_TRUE(s.up());
    EXPECT_EQ(s.record(false), T::kWentDown);
}

TEST(HealthState, RiseConsecutivePassesTurnADownServerUp) {
    HealthState s(true, 3, 1);
    EXPECT_EQ(s.record(false), T::kWentDown);
    EXPECT_EQ(s.record(true), T::kNone);
    EXPECT_EQ(s.record(true), T::kNone);
    EXPECT_EQ(s.record(false), T::kNone);  // resets the pass run
    EXPECT_EQ(s.passes(), 0u);
    EXPECT_EQ(s.record(true), T::kNone);
    EXPECT_EQ(s.record(true), T::kNone);
    EXPECT_EQ(s.record(true), T::kWentUp);
    EXPECT_EQ(s.passes(), 3u);
}

TEST(HealthState, RiseAndFallOfOneFlipOnEveryChange) {
    HealthState s(true, 1, 1);
    EXPECT_EQ(s.record(true), T::kNone);
    EXPECT_EQ(s.record(false), T::kWentDown);
    EXPECT_EQ(s.record(true), T::kWentUp);
    EXPECT_EQ(s.record(false), T::kWentDown);
}

TEST(HealthState, NewThresholdsApplyFromTheNextResult) {
    HealthState s(true, 2, 5);
    s.record(true);
    s.record(false);
    s.record(false);
    s.setThresholds(2, 3);
    EXPECT_EQ(s.record(false), T::kWentDown);
    EXPECT_EQ(s.fall(), 3u);
}

TEST(HealthState, ZeroThresholdsCountAsOne) {
    HealthState s(true, 0, 0);
    s.record(true);
    EXPECT_EQ(s.record(false), T::kWentDown);
    EXPECT_EQ(s.record(true), T::kWentUp);
}

}  // namespace
}  // namespace sluice::health
