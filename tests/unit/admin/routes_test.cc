#include "admin/routes.h"

#include <gtest/gtest.h>

#include "admin/client_filter.h"
#include "config/units.h"

namespace sluice::admin {
namespace {

class FakeSource final : public Source {
  public:
    std::string metricsText() override {
        ++scrapes;
        return "sluice_build_info{version=\"x\"} 1\n";
    }
    std::string statusJson() override { return "{\"status\":{}}\n"; }
    bool handingOver() const override { return handing_over; }
    bool handing_over = false;
    int scrapes = 0;
};

TEST(AdminRoutes, ServesEachPathWithItsType) {
    FakeSource source;
    Response r = route("GET", "/metrics", true, source);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type, "text/plain; version=0.0.4");
    EXPECT_EQ(source.scrapes, 1);
    r = route("GET", "/metrics?name[]=x", true, source);  // the query string is ignored
    EXPECT_EQ(r.status, 200);
    r = route("GET", "/status.json", true, source);
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(r.body, "{\"status\":{}}\n");
    r = route("HEAD", "/status", true, source);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
    EXPECT_NE(r.body.find("status.json"), std::string::npos);
}

TEST(AdminRoutes, HealthzTurns503WhenHandingOver) {
    FakeSource source;
    EXPECT_EQ(route("GET", "/healthz", true, source).status, 200);
    EXPECT_EQ(route("GET", "/healthz", true, source).body, "ok\n");
    source.handing_over = true;
    EXPECT_EQ(route("GET", "/healthz", true, source).status, 503);
    EXPECT_EQ(route("HEAD", "/healthz", true, source).status, 503);
}

TEST(AdminRoutes, ForbiddenThenNotFoundThenMethodNotAllowed) {
    FakeSource source;
    EXPECT_EQ(route("GET", "/metrics", false, source).status, 403);
    EXPECT_EQ(route("POST", "/nowhere", false, source).status, 403);
    EXPECT_EQ(source.scrapes, 0);  // nothing rendered for a refused client
    EXPECT_EQ(route("GET", "/nowhere", true, source).status, 404);
    EXPECT_EQ(route("GET", "/metrics/", true, source).status, 404);
    EXPECT_EQ(route("POST", "/nowhere", true, source).status, 404);
    EXPECT_EQ(route("POST", "/metrics", true, source).status, 405);
    EXPECT_EQ(route("DELETE", "/healthz", true, source).status, 405);
    EXPECT_EQ(source.scrapes, 0);
}

TEST(AdminRoutes, SerializesNoStoreCloseAndLengthAndNoBodyForHead) {
    Response r;
    r.status = 405;
    r.body = "no\n";
    EXPECT_EQ(serializeResponse(r, false),
              "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\n"
              "Content-Length: 3\r\nCache-Control: no-store\r\nAllow: GET, HEAD\r\n"
              "Connection: close\r\n\r\nno\n");
    r.status = 200;
    EXPECT_EQ(serializeResponse(r, true),
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
              "Content-Length: 3\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n");
}

std::vector<config::Network> networks(std::initializer_list<const char*> texts) {
    std::vector<config::Network> out;
    std::string error;
    for (const char* t : texts) out.push_back(*config::parseNetwork(t, &error));
    return out;
}

TEST(AdminClientFilter, MatchesPrefixesOfEitherFamily) {
    const auto allow = networks({"127.0.0.0/8", "::1/128", "10.1.0.0/16", "2001:db8::/32"});
    EXPECT_TRUE(clientAllowed(allow, "127.0.0.1"));
    EXPECT_TRUE(clientAllowed(allow, "127.255.3.4"));
    EXPECT_TRUE(clientAllowed(allow, "::1"));
    EXPECT_TRUE(clientAllowed(allow, "10.1.200.3"));
    EXPECT_FALSE(clientAllowed(allow, "10.2.0.1"));
    EXPECT_TRUE(clientAllowed(allow, "2001:db8:ffff::1"));
    EXPECT_FALSE(clientAllowed(allow, "2001:db9::1"));
    EXPECT_FALSE(clientAllowed(allow, "::2"));
    EXPECT_TRUE(clientAllowed(allow, "::ffff:127.0.0.1"));  // IPv4-mapped: as IPv4
    EXPECT_FALSE(clientAllowed(allow, "::ffff:192.0.2.1"));
    EXPECT_FALSE(clientAllowed(allow, ""));
    EXPECT_FALSE(clientAllowed(allow, "not an address"));
    EXPECT_FALSE(clientAllowed({}, "127.0.0.1"));
    EXPECT_TRUE(clientAllowed(networks({"0.0.0.0/0"}), "203.0.113.9"));
    EXPECT_FALSE(clientAllowed(networks({"0.0.0.0/0"}), "::1"));
    EXPECT_TRUE(clientAllowed(networks({"192.0.2.7"}), "192.0.2.7"));
    EXPECT_FALSE(clientAllowed(networks({"192.0.2.7"}), "192.0.2.6"));
}

}  // namespace
}  // namespace sluice::admin
