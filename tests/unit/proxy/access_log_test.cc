#include "proxy/http/access_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/json.h"

namespace sluice::proxy {
namespace {

class AccessLogTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/sluice-access-log-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    // The lines `records` produce in `format`.
    std::vector<std::string> linesOf(config::AccessLogFormat format,
                                     const std::vector<AccessRecord>& records) {
        config::LogConfig config;
        config.access_log = dir_ + "/access.log";
        config.access_log_format = format;
        AccessLog log;
        std::string error;
        EXPECT_TRUE(log.open(config, &error)) << error;
        std::string scratch;
        for (const auto& r : records) log.write(r, scratch);
        std::ifstream in(config.access_log, std::ios::binary);
        std::vector<std::string> lines;
        for (std::string line; std::getline(in, line);) lines.push_back(line);
        std::filesystem::remove(config.access_log);
        return lines;
    }

    static AccessRecord typical() {
        AccessRecord r;
        r.client = "192.0.2.7";
        r.method = "GET";
        r.target = "/items?id=42";
        r.status = 200;
        r.bytes_sent = 5120;
        r.referer = "https://www.example.com/";
        r.user_agent = "curl/7.88.1";
        r.host = "www.example.com";
        r.upstream = "app1";
        r.pool = "app";
        r.connect_ms = 1;
        r.first_byte_ms = 12;
        r.total_ms = 13;
        r.request_id = "4f2a9c81";
        r.termination = "ok";
        return r;
    }

    std::string dir_;
};

TEST_F(AccessLogTest, JsonLineHasEveryFieldInOrder) {
    AccessRecord tls = typical();
    tls.version_minor = 0;
    tls.tls_version = "TLSv1.3";
    tls.sni = "www.example.com";
    const auto lines = linesOf(config::AccessLogFormat::kJson, {typical(), tls});
    ASSERT_EQ(lines.size(), 2u);
    const Json entry = Json::parse(lines[0]);
    std::vector<std::string> keys;
    for (const auto& [key, value] : entry.items()) keys.push_back(key);
    EXPECT_EQ(keys, (std::vector<std::string>{
                        "time", "client", "method", "target", "protocol", "host", "status", "bytes",
                        "referer", "user_agent", "pool", "upstream", "connect_ms", "first_byte_ms",
                        "total_ms", "request_id", "termination", "tls", "sni"}));
    EXPECT_EQ(entry["client"], "192.0.2.7");
    EXPECT_EQ(entry["target"], "/items?id=42");
    EXPECT_EQ(entry["protocol"], "HTTP/1.1");
    EXPECT_EQ(entry["status"], 200);
    EXPECT_EQ(entry["bytes"], 5120);
    EXPECT_EQ(entry["first_byte_ms"], 12);
    EXPECT_EQ(entry["tls"], "");
    const std::string time = entry["time"];
    ASSERT_EQ(time.size(), 24u) << time;  // 2026-11-24T10:00:00.123Z
    EXPECT_EQ(time[10], 'T');
    EXPECT_EQ(time[19], '.');
    EXPECT_EQ(time.back(), 'Z');
    const Json second = Json::parse(lines[1]);
    EXPECT_EQ(second["protocol"], "HTTP/1.0");
    EXPECT_EQ(second["tls"], "TLSv1.3");
    EXPECT_EQ(second["sni"], "www.example.com");
    // The fields of one line do not leak into the next.
    EXPECT_EQ(Json::parse(linesOf(config::AccessLogFormat::kJson, {typical()})[0])["sni"], "");
}

TEST_F(AccessLogTest, JsonLineStaysValidWhateverTheClientSent) {
    AccessRecord r = typical();
    const std::string agent = "bot\xff\xfe/1";
    const std::string referer = "http://x/\xc3";  // a truncated two-byte sequence
    const std::string target = "/a\"b\\c\td\x01";
    const std::string host = "\xe2\x82\xac.example";  // valid UTF-8 stays as it is
    r.user_agent = agent;
    r.referer = referer;
    r.target = target;
    r.host = host;
    const auto lines = linesOf(config::AccessLogFormat::kJson, {r});
    ASSERT_EQ(lines.size(), 1u);
    const Json entry = Json::parse(lines[0]);  // throws on invalid UTF-8 or JSON
    EXPECT_EQ(entry["user_agent"], "bot\xef\xbf\xbd\xef\xbf\xbd/1");
    EXPECT_EQ(entry["referer"], "http://x/\xef\xbf\xbd");
    EXPECT_EQ(entry["target"], target);
    EXPECT_EQ(entry["host"], host);
    EXPECT_EQ(lines[0].find('\t'), std::string::npos);
    EXPECT_EQ(lines[0].find('\x01'), std::string::npos);
}

TEST_F(AccessLogTest, CombinedLineIsUnchanged) {
    AccessRecord r = typical();
    r.user_agent = "a \"quoted\" agent";
    r.referer = "";
    const auto lines = linesOf(config::AccessLogFormat::kCombined, {r});
    ASSERT_EQ(lines.size(), 1u);
    const std::string& line = lines[0];
    EXPECT_EQ(line.rfind("192.0.2.7 - - [", 0), 0u) << line;
    EXPECT_NE(line.find("] \"GET /items?id=42 HTTP/1.1\" 200 5120 \"-\" \"a \\x22quoted\\x22 "
                        "agent\" upstream=app1 connect_ms=1 first_byte_ms=12 total_ms=13 "
                        "request_id=4f2a9c81 term=ok"),
              std::string::npos)
        << line;
}

}  // namespace
}  // namespace sluice::proxy
