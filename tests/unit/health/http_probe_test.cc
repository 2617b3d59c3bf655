#include "health/http_probe.h"

#include <gtest/gtest.h>
#include <uv.h>

namespace sluice::health {
namespace {

TEST(HttpProbe, SendsAMinimalGetThatAsksTheServerToClose) {
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    {
        HttpProbe probe(&loop, std::chrono::milliseconds(1000), "/healthz", "10.0.0.7:8080",
                        {{200, 399}});
        EXPECT_EQ(probe.request(),
                  "GET /healthz HTTP/1.1\r\nHost: 10.0.0.7:8080\r\n"
                  "User-Agent: sluice-health-check\r\nAccept: */*\r\nConnection: close\r\n\r\n");
        EXPECT_FALSE(probe.running());
    }
    uv_run(&loop, UV_RUN_NOWAIT);  // frees the probe's timer handle
    EXPECT_EQ(uv_loop_close(&loop), 0);
}

TEST(HttpProbe, StatusMustFallInOneOfTheExpectedRanges) {
    const std::vector<std::pair<int, int>> ranges{{200, 200}, {204, 204}, {300, 399}};
    EXPECT_TRUE(HttpProbe::statusExpected(200, ranges));
    EXPECT_TRUE(HttpProbe::statusExpected(204, ranges));
    EXPECT_TRUE(HttpProbe::statusExpected(399, ranges));
    EXPECT_FALSE(HttpProbe::statusExpected(201, ranges));
    EXPECT_FALSE(HttpProbe::statusExpected(503, ranges));
    EXPECT_FALSE(HttpProbe::statusExpected(0, ranges));
    EXPECT_FALSE(HttpProbe::statusExpected(200, {}));
}

}  // namespace
}  // namespace sluice::health
