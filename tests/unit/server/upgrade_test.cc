// What a process started by a binary upgrade reads from its environment (server/upgrade.h).

#include "server/upgrade.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace sluice::server {
namespace {

class InheritanceTest : public ::testing::Test {
  protected:
    void TearDown() override {
        for (const char* var : {"SLUICE_UPGRADE_READY_FD", "SLUICE_UPGRADE_FDS",
                                "SLUICE_UPGRADE_CONTROL_FD", "SLUICE_UPGRADE_HEALTH_FD"}) {
            ::unsetenv(var);
        }
        for (int fd : fds_) ::close(fd);
    }
    int openFd() {
        const int fd = ::open("/dev/null", O_RDONLY);  // no FD_CLOEXEC, as inherited
        fds_.push_back(fd);
        return fd;
    }
    std::vector<int> fds_;
};

TEST_F(InheritanceTest, ANormalStartInheritsNothing) {
    Inheritance inherited;
    std::string error;
    ASSERT_TRUE(Inheritance::fromEnvironment(&inherited, &error)) << error;
    EXPECT_FALSE(inherited.active());
    EXPECT_TRUE(inherited.listeners.empty());
}

TEST_F(InheritanceTest, ReadsSocketsHealthAndReadyPipeThenForgetsTheVariables) {
    const int ready = openFd(), a = openFd(), b = openFd(), c = openFd(), control = openFd();
    const int health = ::memfd_create("test-health", 0);
    fds_.push_back(health);
    const std::string text = "app\tapp1\tup\napp\tapp2\tdown\nbroken line\n";
    ASSERT_EQ(::write(health, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::setenv("SLUICE_UPGRADE_READY_FD", std::to_string(ready).c_str(), 1);
    const std::string fds = "127.0.0.1:80=" + std::to_string(a) + "," + std::to_string(b) +
                            ";[::1]:443=" + std::to_string(c);
    ::setenv("SLUICE_UPGRADE_FDS", fds.c_str(), 1);
    ::setenv("SLUICE_UPGRADE_CONTROL_FD", std::to_string(control).c_str(), 1);
    ::setenv("SLUICE_UPGRADE_HEALTH_FD", std::to_string(health).c_str(), 1);
    fds_.pop_back();  // fromEnvironment closes the health memfd

    Inheritance inherited;
    std::string error;
    ASSERT_TRUE(Inheritance::fromEnvironment(&inherited, &error)) << error;
    EXPECT_TRUE(inherited.active());
    EXPECT_EQ(inherited.ready_fd, ready);
    EXPECT_EQ(inherited.control_fd, control);
    EXPECT_EQ(inherited.listeners.at("127.0.0.1:80"), (std::vector<int>{a, b}));
    EXPECT_EQ(inherited.listeners.at("[::1]:443"), (std::vector<int>{c}));
    EXPECT_EQ(inherited.health, (HealthSeeds{{{"app", "app1"}, true}, {{"app", "app2"}, false}}));
    EXPECT_EQ(::fcntl(a, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);  // not passed on any further
    EXPECT_EQ(std::getenv("SLUICE_UPGRADE_READY_FD"), nullptr);
    EXPECT_EQ(std::getenv("SLUICE_UPGRADE_FDS"), nullptr);
}

TEST_F(InheritanceTest, MalformedOrClosedDescriptorsAreErrors) {
    const int ready = openFd();
    for (const std::string& fds :
         {std::string("127.0.0.1:80="), std::string("nokey"), std::string("127.0.0.1:80=x"),
          std::string("127.0.0.1:80=999999")}) {
        ::setenv("SLUICE_UPGRADE_READY_FD", std::to_string(ready).c_str(), 1);
        ::setenv("SLUICE_UPGRADE_FDS", fds.c_str(), 1);
        Inheritance inherited;
        std::string error;
        EXPECT_FALSE(Inheritance::fromEnvironment(&inherited, &error)) << fds;
        EXPECT_NE(error.find("malformed SLUICE_UPGRADE_FDS"), std::string::npos) << error;
    }
    ::setenv("SLUICE_UPGRADE_READY_FD", "12345678", 1);
    Inheritance inherited;
    std::string error;
    EXPECT_FALSE(Inheritance::fromEnvironment(&inherited, &error));
    EXPECT_NE(error.find("SLUICE_UPGRADE_READY_FD"), std::string::npos) << error;
}

}  // namespace
}  // namespace sluice::server
