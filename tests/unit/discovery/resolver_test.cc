// Resolver against a fake DNS server on a loopback UDP port (a thread with plain sockets): the
// answers c-ares parses for sluice, including malformed and missing ones.
#include "discovery/resolver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "unit/discovery/fake_dns.h"

namespace sluice::discovery {
namespace {

using namespace fakedns;  // NOLINT: the fake server's vocabulary
class ResolverTest : public ::testing::Test {
  protected:
    ~ResolverTest() override {
        resolver_.reset();
        for (int i = 0; i < 10; ++i) uv_run(loop_, UV_RUN_NOWAIT);  // close callbacks
    }
    Resolver& start(FakeDns& dns, int timeout_ms = 2000) {
        config::ResolverConfig config;
        config::Address ns;
        ns.host = "127.0.0.1";
        ns.port = dns.port();
        config.nameservers.push_back(ns);
        config.timeout = config::Duration{timeout_ms};
        config.attempts = 1;
        resolver_ = std::make_unique<Resolver>(loop_, config);
        EXPECT_TRUE(resolver_->ok()) << resolver_->error();
        return *resolver_;
    }
    // Runs the loop until the lookup answered (bounded).
    Answer wait(const std::function<void(Resolver::Callback)>& lookup) {
        std::optional<Answer> got;
        lookup([&](Answer answer) { got = std::move(answer); });
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!got && std::chrono::steady_clock::now() < deadline) uv_run(loop_, UV_RUN_ONCE);
        EXPECT_TRUE(got.has_value()) << "no answer within 10s";
        return got.value_or(Answer{});
    }
    Answer addresses(const std::string& name) {
        return wait([&](Resolver::Callback cb) {
            resolver_->lookupAddresses(name, 8000, 7, std::move(cb));
        });
    }

    uv_loop_t* loop_ = uv_default_loop();
    std::unique_ptr<Resolver> resolver_;
};

TEST_F(ResolverTest, AAndAaaaRecordsWithTheShortestTtl) {
    FakeDns dns([](const std::string& name, uint16_t type) {
        Reply r;
        if (name != "app.test")
            r.rcode = 3;
        else if (type == kA)
            r.answers = {a("10.0.0.1", 30), a("10.0.0.2", 5)};
        else if (type == kAaaa)
            r.answers = {aaaa("2001:db8::1", 60)};
        return r;
    });
    start(dns);
    const Answer answer = addresses("app.test");
    EXPECT_EQ(answer.status, Answer::kOk);
    EXPECT_EQ(answer.min_ttl_s, 5u);
    std::vector<std::string> got;
    for (const auto& r : answer.records) {
        got.push_back(r.ip + " " + std::to_string(r.port) + " " + std::to_string(r.weight));
    }
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<std::string>{"10.0.0.1 8000 7", "10.0.0.2 8000 7",
                                             "2001:db8::1 8000 7"}));
}

TEST_F(ResolverTest, NxDomainAndNoRecordsAreTold) {
    FakeDns dns([](const std::string& name, uint16_t) {
        Reply r;
        if (name == "gone.test") r.rcode = 3;  // NXDOMAIN; "empty.test": NOERROR, no answer
        return r;
    });
    start(dns);
    EXPECT_EQ(addresses("gone.test").status, Answer::kNxDomain);
    EXPECT_EQ(addresses("empty.test").status, Answer::kEmpty);
}

TEST_F(ResolverTest, OneFamilyIsEnoughAndServfailIsAnError) {
    FakeDns dns([](const std::string& name, uint16_t type) {
        Reply r;
        if (name == "v4.test" && type == kA) r.answers = {a("10.0.0.9", 10)};
        if (name == "broken.test") r.rcode = 2;  // SERVFAIL
        return r;
    });
    start(dns);
    const Answer v4 = addresses("v4.test");
    EXPECT_EQ(v4.status, Answer::kOk);
    ASSERT_EQ(v4.records.size(), 1u);
    EXPECT_EQ(v4.records[0].ip, "10.0.0.9");
    const Answer broken = addresses("broken.test");
    EXPECT_EQ(broken.status, Answer::kError);
    EXPECT_FALSE(broken.detail.empty());
}

TEST_F(ResolverTest, MalformedAnswersAreErrorsNotCrashes) {
    FakeDns dns([](const std::string& name, uint16_t type) {
        Reply r;
        if (type != kA) return r;  // AAAA: no records
        if (name == "short.test") {
            // An A record whose rdata is cut short: rdlength 4, two bytes present.
            r.raw_after_header = Bytes{0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 10, 0, 4, 10, 0};
        } else if (name == "badlen.test") {
            // rdlength 3: not an IPv4 address.
            r.raw_after_header = Bytes{0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 10, 0, 3, 10, 0, 0};
        } else if (name == "loop.test") {
            // A name pointer that points at itself.
            r.raw_after_header = Bytes{0xc0, 0x1d, 0, 1, 0, 1, 0, 0, 0, 10, 0, 4, 10, 0, 0, 1};
        } else {
            r.raw_after_header = Bytes{0xff, 0xfe, 0xfd};  // garbage
        }
        return r;
    });
    start(dns, 300);
    for (const char* name : {"short.test", "badlen.test", "loop.test", "garbage.test"}) {
        const Answer answer = addresses(name);
        EXPECT_NE(answer.status, Answer::kOk) << name;
        EXPECT_TRUE(answer.records.empty()) << name;
    }
}

TEST_F(ResolverTest, NoAnswerTimesOut) {
    FakeDns dns([](const std::string&, uint16_t) {
        Reply r;
        r.drop = true;
        return r;
    });
    start(dns, 200);
    const auto before = std::chrono::steady_clock::now();
    const Answer answer = addresses("app.test");
    EXPECT_EQ(answer.status, Answer::kError);
    EXPECT_NE(answer.detail.find("imeout"), std::string::npos) << answer.detail;
    EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(5));
}

TEST_F(ResolverTest, SrvTargetsPortsWeightsAndPriorities) {
    FakeDns dns([](const std::string& name, uint16_t type) {
        Reply r;
        if (name == "_http._tcp.app.test" && type == kSrv) {
            r.answers = {srv(10, 3, 8001, "a.test"), srv(10, 5000, 8003, "c.test"),
                         srv(20, 0, 8002, "b.test")};
        } else if (type == kA && name == "a.test") {
            r.answers = {a("10.0.0.1", 30)};
        } else if (type == kA && name == "b.test") {
            r.answers = {a("10.0.0.2", 30)};
        } else if (name == "c.test") {
            r.rcode = 3;  // a target that does not resolve is left out
        }
        return r;
    });
    start(dns);
    const Answer answer = wait(
        [&](Resolver::Callback cb) { resolver_->lookupSrv("_http._tcp.app.test", std::move(cb)); });
    ASSERT_EQ(answer.status, Answer::kOk);
    std::vector<std::string> got;
    for (const auto& r : answer.records) {
        got.push_back(r.ip + ":" + std::to_string(r.port) + " w" + std::to_string(r.weight) +
                      (r.backup ? " backup" : ""));
    }
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<std::string>{"10.0.0.1:8001 w3", "10.0.0.2:8002 w1 backup"}));
}

TEST_F(ResolverTest, SrvNxDomain) {
    FakeDns dns([](const std::string&, uint16_t) {
        Reply r;
        r.rcode = 3;
        return r;
    });
    start(dns);
    const Answer answer = wait(
        [&](Resolver::Callback cb) { resolver_->lookupSrv("_http._tcp.app.test", std::move(cb)); });
    EXPECT_EQ(answer.status, Answer::kNxDomain);
}

TEST_F(ResolverTest, DestroyingTheResolverCancelsWithoutCallingBack) {
    FakeDns dns([](const std::string&, uint16_t) {
        Reply r;
        r.drop = true;
        return r;
    });
    start(dns);
    bool called = false;
    resolver_->lookupAddresses("app.test", 80, 1, [&](Answer) { called = true; });
    uv_run(loop_, UV_RUN_NOWAIT);
    resolver_.reset();
    EXPECT_FALSE(called);
}

}  // namespace
}  // namespace sluice::discovery
