// ControlServer with commands that answer later (CommandHandler::executeLater): `upgrade`,
// `wait server`. Helper names are unique in the layer (unity build).

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "control/control_server.h"

namespace sluice::control {
namespace {

using namespace std::chrono_literals;

std::string laterRoundTrip(const std::string& path, const std::string& line) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        ::close(fd);
        return "<connect failed>";
    }
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
    std::string out;
    char buf[1024];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
        out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
}

// Answers "later" commands when the test calls answer(); everything else at once.
class LaterHandler : public CommandHandler {
  public:
    std::string execute(const std::vector<std::string>& args, bool) override {
        return "ok: now " + args[0];
    }
    bool executeLater(const std::vector<std::string>& args, bool, Reply reply) override {
        if (args[0] != "later") return false;
        pending.push_back(std::move(reply));
        return true;
    }
    std::vector<Reply> pending;
};

class ControlServerLaterTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::signal(SIGPIPE, SIG_IGN);
        ASSERT_EQ(uv_loop_init(&loop_), 0);
        char tmpl[] = "/tmp/sluice-ctl-later-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/control.sock";
        server_ = std::make_unique<ControlServer>(&loop_, handler_);
        std::string error;
        ASSERT_TRUE(server_->listen(path_, 0600, &error)) << error;
    }
    void TearDown() override {
        server_.reset();
        uv_run(&loop_, UV_RUN_DEFAULT);
        EXPECT_EQ(uv_loop_close(&loop_), 0) << "handles left open";
        std::filesystem::remove_all(dir_);
    }
    // Drives the loop until `done` is ready; calls `step` on every turn.
    template <typename T, typename F>
    T drive(std::future<T>& done, F step) {
        while (done.wait_for(0ms) != std::future_status::ready) {
            uv_run(&loop_, UV_RUN_NOWAIT);
            step();
            std::this_thread::sleep_for(1ms);
        }
        return done.get();
    }

    uv_loop_t loop_{};
    LaterHandler handler_;
    std::unique_ptr<ControlServer> server_;
    std::string dir_;
    std::string path_;
};

TEST_F(ControlServerLaterTest, ALaterReplyArrivesWhenTheHandlerGivesIt) {
    auto done = std::async(std::launch::async, [&] { return laterRoundTrip(path_, "later\n"); });
    int turns = 0;
    const std::string reply = drive(done, [&] {
        // Other commands are served meanwhile; the pending one is answered after 50 turns.
        if (++turns == 50) {
            ASSERT_EQ(handler_.pending.size(), 1u);
            handler_.pending[0]("ok: done later");
        }
    });
    EXPECT_EQ(reply, "ok: done later\n");
    EXPECT_GE(turns, 50);
}

TEST_F(ControlServerLaterTest, ReleaseKeepsTheSocketFileAndThePendingReply) {
    auto done = std::async(std::launch::async, [&] { return laterRoundTrip(path_, "later\n"); });
    bool released = false;
    const std::string reply = drive(done, [&] {
        if (!released && handler_.pending.size() == 1) {
            released = true;
            server_->release();  // an upgrade's new process serves the socket now
            handler_.pending[0]("ok: upgraded");
        }
    });
    EXPECT_EQ(reply, "ok: upgraded\n");
    EXPECT_FALSE(server_->listening());
    EXPECT_TRUE(std::filesystem::exists(path_));  // not unlinked
}

TEST_F(ControlServerLaterTest, AReplyForAClientGoneIsDropped) {
    auto done = std::async(std::launch::async, [&] { return laterRoundTrip(path_, "later\n"); });
    bool answered = false;
    drive(done, [&] {
        if (!answered && handler_.pending.size() == 1) {
            answered = true;
            server_.reset();                  // the client is still executing: it stays
            handler_.pending[0]("ok: late");  // then gets its reply
        }
    });
    // After the client object is gone, a second call does nothing (no crash).
    for (int i = 0; i < 20; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
    handler_.pending[0]("ok: again");
}

}  // namespace
}  // namespace sluice::control
