#include "admin/status_page.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace sluice::admin {
namespace {

std::string sourcePage() {
    std::ifstream in(std::string(SLUICE_TESTS_DIR) + "/../src/admin/status_page.html",
                     std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST(StatusPage, IsTheSourceFileByteForByte) {
    const std::string source = sourcePage();
    ASSERT_FALSE(source.empty());
    EXPECT_EQ(statusPageHtml(), source);
    EXPECT_TRUE(statusPageHtml().starts_with("<!doctype html>"));
}

// No external asset: no script or stylesheet by URL, no http(s) URL at all except the SVG XML
// namespace of the inline favicon (a name, never fetched).
TEST(StatusPage, IsSelfContained) {
    const std::string page(statusPageHtml());
    EXPECT_EQ(page.find("<script src"), std::string::npos);
    EXPECT_EQ(page.find("rel=\"stylesheet\""), std::string::npos);
    EXPECT_EQ(page.find("@import"), std::string::npos);
    EXPECT_EQ(page.find("url("), std::string::npos);
    const std::regex url("https?://[^'\" )]*");
    for (auto it = std::sregex_iterator(page.begin(), page.end(), url);
         it != std::sregex_iterator(); ++it) {
        EXPECT_EQ(it->str(), "http://www.w3.org/2000/svg");
    }
}

TEST(StatusPage, DocumentsTheSchemaAndFetchesStatusJson) {
    const std::string page(statusPageHtml());
    EXPECT_NE(page.find("/status.json schema"), std::string::npos);
    EXPECT_NE(page.find("new URL(\"status.json\", location.href)"), std::string::npos);
    for (const char* hook : {"data-server", "data-pool", "data-state", "data-backup",
                             "data-connection", "data-listener"}) {
        EXPECT_NE(page.find(hook), std::string::npos) << hook;
    }
}

}  // namespace
}  // namespace sluice::admin
