#include "discovery/discovered_set.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::discovery {
namespace {

Answer ok(std::vector<std::string> ips, uint16_t port = 8000) {
    Answer a;
    a.status = Answer::kOk;
    for (auto& ip : ips) a.records.push_back({ip, port, 1, false});
    return a;
}

Answer failure(Answer::Status status, std::string detail = "") {
    Answer a;
    a.status = status;
    a.detail = std::move(detail);
    return a;
}

// "name" or "name(draining)" per member, in order.
std::vector<std::string> view(const DiscoveredSet& set) {
    std::vector<std::string> out;
    for (const auto& m : set.members()) out.push_back(m.name + (m.draining ? "(draining)" : ""));
    return out;
}

using Names = std::vector<std::string>;

TEST(DiscoveredSet, NamesServersAfterTheirAddress) {
    EXPECT_EQ(DiscoveredSet::nameOf({"10.0.0.5", 8000, 1, false}), "10.0.0.5_8000");
    EXPECT_EQ(DiscoveredSet::nameOf({"2001:db8::1", 80, 1, false}), "2001-db8--1_80");
}

TEST(DiscoveredSet, FirstAnswerAddsEveryAddressOnce) {
    DiscoveredSet set;
    Change c = set.onAnswer(ok({"127.0.0.2", "127.0.0.3", "127.0.0.2"}), 1000, 60000);
    EXPECT_TRUE(c.changed);
    EXPECT_EQ(view(set), (Names{"127.0.0.2_8000", "127.0.0.3_8000"}));
    EXPECT_EQ(c.log,
              (Names{"server 127.0.0.2_8000 discovered", "server 127.0.0.3_8000 discovered"}));
    // The same answer again: nothing changes, nothing is logged.
    c = set.onAnswer(ok({"127.0.0.3", "127.0.0.2"}), 2000, 60000);
    EXPECT_FALSE(c.changed);
    EXPECT_TRUE(c.log.empty());
}

TEST(DiscoveredSet, ScaleOutAddsScaleInDrainsThenForgets) {
    DiscoveredSet set;
    set.onAnswer(ok({"127.0.0.2", "127.0.0.3"}), 1000, 60000);
    Change c = set.onAnswer(ok({"127.0.0.2", "127.0.0.3", "127.0.0.4"}), 2000, 60000);
    EXPECT_TRUE(c.changed);
    EXPECT_EQ(view(set), (Names{"127.0.0.2_8000", "127.0.0.3_8000", "127.0.0.4_8000"}));
    c = set.onAnswer(ok({"127.0.0.4"}), 3000, 60000);
    EXPECT_TRUE(c.changed);
    EXPECT_EQ(view(set),
              (Names{"127.0.0.2_8000(draining)", "127.0.0.3_8000(draining)", "127.0.0.4_8000"}));
    EXPECT_EQ(c.log, (Names{"server 127.0.0.2_8000 left DNS: draining",
                            "server 127.0.0.3_8000 left DNS: draining"}));
    // Still gone at the next refresh: no new log line.
    c = set.onAnswer(ok({"127.0.0.4"}), 4000, 60000);
    EXPECT_FALSE(c.changed);
    EXPECT_TRUE(c.log.empty());
    EXPECT_TRUE(set.forget("127.0.0.2_8000"));
    EXPECT_FALSE(set.forget("127.0.0.4_8000"));  // not draining: stays
    EXPECT_FALSE(set.forget("nope"));
    EXPECT_EQ(view(set), (Names{"127.0.0.3_8000(draining)", "127.0.0.4_8000"}));
    // A draining server that comes back is in service again.
    c = set.onAnswer(ok({"127.0.0.3", "127.0.0.4"}), 5000, 60000);
    EXPECT_TRUE(c.changed);
    EXPECT_EQ(view(set), (Names{"127.0.0.3_8000", "127.0.0.4_8000"}));
    EXPECT_EQ(c.log, (Names{"server 127.0.0.3_8000 is back in DNS"}));
}

TEST(DiscoveredSet, WeightAndBackupChangesUpdateTheMember) {
    DiscoveredSet set;
    Answer a = ok({"127.0.0.2"});
    set.onAnswer(a, 1000, 60000);
    a.records[0].weight = 5;
    a.records[0].backup = true;
    Change c = set.onAnswer(a, 2000, 60000);
    EXPECT_TRUE(c.changed);
    EXPECT_EQ(set.members()[0].record.weight, 5u);
    EXPECT_TRUE(set.members()[0].record.backup);
    EXPECT_EQ(c.log, (Names{"server 127.0.0.2_8000 now has weight 5 (backup)"}));
}

TEST(DiscoveredSet, FailuresKeepTheSetForHoldThenDrainIt) {
    DiscoveredSet set;
    set.onAnswer(ok({"127.0.0.2", "127.0.0.3"}), 1000, 5000);
    Change c = set.onAnswer(failure(Answer::kError, "timeout"), 2000, 5000);
    EXPECT_FALSE(c.changed);
    EXPECT_TRUE(set.failing());
    EXPECT_EQ(c.log, (Names{"lookup failed (timeout): keeping 2 server(s) for 5000ms"}));
    // Within hold: same failure, silent; another kind of failure, one line.
    EXPECT_TRUE(set.onAnswer(failure(Answer::kError, "timeout"), 4000, 5000).log.empty());
    c = set.onAnswer(failure(Answer::kNxDomain), 5000, 5000);
    EXPECT_FALSE(c.changed);
    EXPECT_EQ(c.log, (Names{"lookup still failing, now: NXDOMAIN"}));
    EXPECT_EQ(view(set), (Names{"127.0.0.2_8000", "127.0.0.3_8000"}));
    // At the end of hold (from the first failure): every server drains, logged once.
    c = set.onAnswer(failure(Answer::kNxDomain), 7000, 5000);
    EXPECT_TRUE(c.changed);
    EXPECT_EQ(view(set), (Names{"127.0.0.2_8000(draining)", "127.0.0.3_8000(draining)"}));
    EXPECT_EQ(c.log.front(), "lookup failing for longer than hold: removing the servers");
    EXPECT_EQ(c.log.size(), 3u);
    c = set.onAnswer(failure(Answer::kNxDomain), 9000, 5000);
    EXPECT_FALSE(c.changed);
    EXPECT_TRUE(c.log.empty());
    // Resolving again: logged once, and the answer is the set again.
    c = set.onAnswer(ok({"127.0.0.4"}), 10000, 5000);
    EXPECT_TRUE(c.changed);
    EXPECT_EQ(c.log.front(), "resolves again");
    EXPECT_FALSE(set.failing());
    EXPECT_EQ(view(set),
              (Names{"127.0.0.2_8000(draining)", "127.0.0.3_8000(draining)", "127.0.0.4_8000"}));
}

TEST(DiscoveredSet, AnEmptyAnswerIsAFailureNotAnEmptySet) {
    DiscoveredSet set;
    set.onAnswer(ok({"127.0.0.2"}), 1000, 5000);
    Answer empty;
    empty.status = Answer::kOk;  // ok but no records: treated as "no records"
    Change c = set.onAnswer(empty, 2000, 5000);
    EXPECT_FALSE(c.changed);
    EXPECT_EQ(c.log, (Names{"lookup failed (no records): keeping 1 server(s) for 5000ms"}));
    EXPECT_EQ(view(set), (Names{"127.0.0.2_8000"}));
}

TEST(DiscoveredSet, AFailureBeforeAnyAnswerHoldsNothing) {
    DiscoveredSet set;
    Change c = set.onAnswer(failure(Answer::kNxDomain), 1000, 5000);
    EXPECT_FALSE(c.changed);
    EXPECT_TRUE(set.members().empty());
    c = set.onAnswer(failure(Answer::kNxDomain), 7000, 5000);
    EXPECT_FALSE(c.changed);
    EXPECT_TRUE(set.members().empty());
}

}  // namespace
}  // namespace sluice::discovery
