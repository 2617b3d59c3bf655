// Discovery against a fake DNS server: servers built from the answers, names a configured
// server or `del server` holds skipped, a vanished address leaving and then forgotten once
// idle, and an unchanged pool keeping its set over configure().
#include "discovery/discovery.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>

#include "unit/discovery/fake_dns.h"

namespace sluice::discovery {
namespace {

using namespace fakedns;  // NOLINT: the fake server's vocabulary

std::vector<std::string> describe(const config::Config& config) {
    std::vector<std::string> out;
    for (const auto& s : config.pools.at(0).servers) {
        out.push_back(s.name + (s.discovered ? " discovered" : "") + (s.leaving ? " leaving" : "") +
                      (s.discovered ? " " + s.address.text + " w" + std::to_string(s.weight) : ""));
    }
    return out;
}

class DiscoveryTest : public ::testing::Test {
  protected:
    DiscoveryTest()
        : dns_([this](const std::string& name, uint16_t type) {
              Reply r;
              std::lock_guard<std::mutex> lock(mu_);
              if (name != "app.test") {
                  r.rcode = 3;
              } else if (type == kA) {
                  for (const auto& ip : ips_) r.answers.push_back(a(ip.c_str(), 1));
              }
              return r;
          }) {
        config::Address ns;
        ns.host = "127.0.0.1";
        ns.port = dns_.port();
        config_.resolver.nameservers.push_back(ns);
        config_.resolver.timeout = config::Duration{1000};
        config_.resolver.attempts = 1;
        config::PoolConfig pool;
        pool.name = "app";
        config::DiscoveryConfig discovery;
        discovery.name = "app.test";
        discovery.port = 8000;
        discovery.refresh = config::Duration{1000};
        discovery.weight = 3;
        pool.discovery = discovery;
        config::ServerConfig configured;
        configured.name = "10.0.0.2_8000";  // the file has a server with a discovered name
        pool.servers.push_back(configured);
        config_.pools.push_back(pool);
    }
    ~DiscoveryTest() override {
        discovery_.reset();
        for (int i = 0; i < 10; ++i) uv_run(loop_, UV_RUN_NOWAIT);
    }
    void setIps(std::vector<std::string> ips) {
        std::lock_guard<std::mutex> lock(mu_);
        ips_ = std::move(ips);
    }
    void waitForChanges(int n) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (changes_ < n && std::chrono::steady_clock::now() < deadline) {
            uv_run(loop_, UV_RUN_ONCE);
        }
        ASSERT_EQ(changes_, n);
    }
    std::shared_ptr<const config::Config> with(const Discovery::Deleted& deleted = {}) {
        return discovery_->withServers(std::make_shared<const config::Config>(config_), deleted);
    }

    std::mutex mu_;
    std::vector<std::string> ips_{"10.0.0.1", "10.0.0.2"};
    FakeDns dns_;
    config::Config config_;
    uv_loop_t* loop_ = uv_default_loop();
    int changes_ = 0;
    std::unique_ptr<Discovery> discovery_ =
        std::make_unique<Discovery>(loop_, [this] { ++changes_; });
};

using Lines = std::vector<std::string>;

TEST_F(DiscoveryTest, FollowsTheNameThroughScaleInToRemoval) {
    discovery_->configure(config_);
    EXPECT_EQ(describe(*with()), (Lines{"10.0.0.2_8000"}));  // nothing found yet
    waitForChanges(1);
    EXPECT_EQ(describe(*with()),
              (Lines{"10.0.0.2_8000", "10.0.0.1_8000 discovered 10.0.0.1:8000 w3"}));
    EXPECT_EQ(describe(*with({{"app", "10.0.0.1_8000"}})), (Lines{"10.0.0.2_8000"}));

    // Reconfigured with the same settings: the set stays, no new lookup needed.
    discovery_->configure(config_);
    EXPECT_EQ(describe(*with()).size(), 2u);

    // 10.0.0.1 leaves DNS: it is built `leaving` (drain), then forgotten once idle.
    setIps({"10.0.0.2", "10.0.0.3"});
    waitForChanges(2);
    auto running = with();
    EXPECT_EQ(describe(*running),
              (Lines{"10.0.0.2_8000", "10.0.0.1_8000 discovered leaving 10.0.0.1:8000 w3",
                     "10.0.0.3_8000 discovered 10.0.0.3:8000 w3"}));
    routing::ServerStateRegistry registry;
    auto snapshot = routing::buildSnapshot(running, 2, registry);
    snapshot->pools[0]->servers[1].state->active.store(1);  // a request still in flight
    discovery_->adopt(snapshot);
    for (int i = 0; i < 5; ++i) uv_run(loop_, UV_RUN_ONCE);
    EXPECT_EQ(describe(*with()).size(), 3u);  // still there while busy
    snapshot->pools[0]->servers[1].state->active.store(0);
    waitForChanges(3);
    EXPECT_EQ(describe(*with()),
              (Lines{"10.0.0.2_8000", "10.0.0.3_8000 discovered 10.0.0.3:8000 w3"}));

    // Discovery removed from the pool: no discovered servers any more.
    config_.pools[0].discovery.reset();
    discovery_->configure(config_);
    EXPECT_EQ(describe(*with()), (Lines{"10.0.0.2_8000"}));
}

TEST_F(DiscoveryTest, ARecordTtlShorterThanRefreshBringsTheNextLookupForward) {
    config_.pools[0].discovery->refresh = config::Duration{60'000};  // the records say 1 s
    discovery_->configure(config_);
    waitForChanges(1);
    const int after_first = dns_.queries();
    EXPECT_EQ(after_first, 2);  // A and AAAA
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (dns_.queries() == after_first && std::chrono::steady_clock::now() < deadline) {
        uv_run(loop_, UV_RUN_ONCE);
    }
    EXPECT_GT(dns_.queries(), after_first);  // within ~1 s, not 60 s
}

TEST(DiscoveryAddress, NumericAddressesOfBothFamilies) {
    const config::Address v4 = addressOf({"10.0.0.5", 8000, 1, false});
    EXPECT_EQ(v4.text, "10.0.0.5:8000");
    EXPECT_EQ(v4.sockaddr.ss_family, AF_INET);
    const config::Address v6 = addressOf({"2001:db8::1", 443, 1, false});
    EXPECT_EQ(v6.text, "[2001:db8::1]:443");
    EXPECT_EQ(v6.host, "2001:db8::1");
    EXPECT_EQ(v6.sockaddr.ss_family, AF_INET6);
    EXPECT_EQ(v6.sockaddr_len, sizeof(sockaddr_in6));
}

}  // namespace
}  // namespace sluice::discovery
