#include "config/control_socket_lookup.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace sluice::config {
namespace {

class ControlSocketLookup : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/sluice-lookup-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/sluice.toml";
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string lookup(const std::string& text) {
        std::ofstream(path_) << text;
        return controlSocketFromFile(path_);
    }

    std::string dir_;
    std::string path_;
};

TEST_F(ControlSocketLookup, ReturnsTheGlobalKey) {
    EXPECT_EQ(lookup("[global]\nworkers = 2\ncontrol_socket = \"/tmp/s/control.sock\"\n"),
              "/tmp/s/control.sock");
}

TEST_F(ControlSocketLookup, IgnoresErrorsElsewhereInAValidTomlFile) {
    EXPECT_EQ(lookup("[global]\ncontrol_socket = \"/x.sock\"\nbogus_key = 1\n[[listener]]\n"),
              "/x.sock");
}

TEST_F(ControlSocketLookup, EmptyWhenAbsentOrUnusable) {
    EXPECT_EQ(controlSocketFromFile(dir_ + "/missing.toml"), "");
    EXPECT_EQ(controlSocketFromFile(dir_), "");
    EXPECT_EQ(lookup("[global]\nworkers = 2\n"), "");
    EXPECT_EQ(lookup("[log]\nlevel = \"info\"\n"), "");
    EXPECT_EQ(lookup("[global]\ncontrol_socket = 5\n"), "");
    EXPECT_EQ(lookup("global = 1\n"), "");
    EXPECT_EQ(lookup("[global\ncontrol_socket = \"/x.sock\"\n"), "");
}

}  // namespace
}  // namespace sluice::config
