#include "control/control_server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sluice::control {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Blocking client side, run on a helper thread while the test thread drives the loop.
int connectTo(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        ::close(fd);
        return -1;
    }
    timeval tv{10, 0};  // a hung test fails instead of hanging
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

void sendAll(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0) return;  // the server may close early (oversized line)
        data.remove_prefix(static_cast<size_t>(n));
    }
}

// Everything the server sends until it closes (a reset after the reply also ends it).
std::string readAll(int fd) {
    std::string out;
    char buf[4096];
    while (true) {
        const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) return out;
        out.append(buf, static_cast<size_t>(n));
    }
}

std::string sendLine(const std::string& path, const std::string& bytes) {
    const int fd = connectTo(path);
    if (fd < 0) return "<connect failed: " + std::string(std::strerror(errno)) + ">";
    sendAll(fd, bytes);
    std::string reply = readAll(fd);
    ::close(fd);
    return reply;
}

class RecordingHandler : public CommandHandler {
  public:
    struct Call {
        std::vector<std::string> args;
        bool json;
    };

    std::string execute(const std::vector<std::string>& args, bool json) override {
        calls.push_back({args, json});
        if (respond) return respond(args, json);
        std::string reply = "ok:";
        for (const auto& arg : args) reply += " " + arg;
        return reply + (json ? " (json)" : "");
    }

    std::vector<Call> calls;
    std::function<std::string(const std::vector<std::string>&, bool)> respond;
};

class ControlServerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::signal(SIGPIPE, SIG_IGN);  // as sluice's main does
        ASSERT_EQ(uv_loop_init(&loop_), 0);
        char tmpl[] = "/tmp/sluice-ctl-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/control.sock";
    }

    void TearDown() override {
        servers_.clear();
        uv_run(&loop_, UV_RUN_DEFAULT);  // close callbacks free every handle
        EXPECT_EQ(uv_loop_close(&loop_), 0) << "handles left open";
        std::filesystem::remove_all(dir_);
    }

    ControlServer& makeServer(uint64_t timeout_ms = kDefaultIdleTimeoutMs,
                              uint64_t linger_ms = kDefaultLingerMs) {
        servers_.push_back(
            std::make_unique<ControlServer>(&loop_, handler_, timeout_ms, linger_ms));
        return *servers_.back();
    }

    ControlServer& listening(uint64_t timeout_ms = kDefaultIdleTimeoutMs, unsigned mode = 0660) {
        ControlServer& server = makeServer(timeout_ms);
        std::string error;
        EXPECT_TRUE(server.listen(path_, mode, &error)) << error;
        return server;
    }

    // Runs `client` on a thread and drives the loop until it returns.
    template <typename F>
    auto withClient(F client) {
        auto done = std::async(std::launch::async, std::move(client));
        while (done.wait_for(0ms) != std::future_status::ready) {
            uv_run(&loop_, UV_RUN_NOWAIT);
            std::this_thread::sleep_for(1ms);
        }
        return done.get();
    }

    std::string roundTrip(const std::string& bytes) {
        return withClient([&] { return sendLine(path_, bytes); });
    }

    // Lets pending close callbacks run.
    void settle() {
        for (int i = 0; i < 5; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
    }

    // Drives the loop until `server` has `count` clients, for at most 5 s.
    void settleTo(const ControlServer& server, size_t count) {
        const auto deadline = Clock::now() + 5s;
        while (server.clientCount() != count && Clock::now() < deadline) {
            uv_run(&loop_, UV_RUN_NOWAIT);
            std::this_thread::sleep_for(1ms);
        }
    }

    uv_loop_t loop_{};
    RecordingHandler handler_;
    std::vector<std::unique_ptr<ControlServer>> servers_;
    std::string dir_;
    std::string path_;
};

TEST(Tokenize, SplitsOnSpacesAndTabs) {
    bool json = true;
    EXPECT_EQ(tokenize("  set\tserver  app/app1 state   drain ", &json),
              (std::vector<std::string>{"set", "server", "app/app1", "state", "drain"}));
    EXPECT_FALSE(json);
    EXPECT_EQ(tokenize("status\r", &json), std::vector<std::string>{"status"});
    EXPECT_TRUE(tokenize("", &json).empty());
    EXPECT_TRUE(tokenize(" \t ", &json).empty());
}

TEST(Tokenize, StripsOnlyATrailingJsonFlag) {
    bool json = false;
    EXPECT_EQ(tokenize("show servers app --json", &json),
              (std::vector<std::string>{"show", "servers", "app"}));
    EXPECT_TRUE(json);
    EXPECT_EQ(tokenize("show --json servers", &json),
              (std::vector<std::string>{"show", "--json", "servers"}));
    EXPECT_FALSE(json);
    EXPECT_TRUE(tokenize("--json", &json).empty());
    EXPECT_TRUE(json);
    EXPECT_EQ(tokenize("status --json --json", &json),
              (std::vector<std::string>{"status", "--json"}));
    EXPECT_TRUE(json);
}

TEST_F(ControlServerTest, AnswersACommandWithTheHandlersReply) {
    ControlServer& server = listening();
    EXPECT_TRUE(server.listening());
    EXPECT_EQ(server.path(), path_);
    EXPECT_EQ(roundTrip("status\n"), "ok: status\n");
    ASSERT_EQ(handler_.calls.size(), 1u);
    EXPECT_EQ(handler_.calls[0].args, std::vector<std::string>{"status"});
    EXPECT_FALSE(handler_.calls[0].json);
    settle();
    EXPECT_EQ(server.clientCount(), 0u);
}

TEST_F(ControlServerTest, PassesTheJsonFlag) {
    listening();
    EXPECT_EQ(roundTrip("show servers app --json\r\n"), "ok: show servers app (json)\n");
    ASSERT_EQ(handler_.calls.size(), 1u);
    EXPECT_EQ(handler_.calls[0].args, (std::vector<std::string>{"show", "servers", "app"}));
    EXPECT_TRUE(handler_.calls[0].json);
}

TEST_F(ControlServerTest, KeepsAReplysOwnNewlineAndIgnoresBytesAfterTheLine) {
    listening();
    handler_.respond = [](const std::vector<std::string>&, bool) { return "a\nb\n"; };
    EXPECT_EQ(roundTrip("help\nstatus\n"), "a\nb\n");
    EXPECT_EQ(handler_.calls.size(), 1u);
}

TEST_F(ControlServerTest, ALineOfExactly4096BytesIsAccepted) {
    listening();
    const std::string arg(kMaxCommandBytes - 6, 'x');  // "echo " + arg + "\n"
    EXPECT_EQ(roundTrip("echo " + arg + "\n"), "ok: echo " + arg + "\n");
}

TEST_F(ControlServerTest, ALongerLineGetsAnError) {
    listening();
    EXPECT_EQ(roundTrip(std::string(kMaxCommandBytes, 'x') + "\n"),
              "error: command longer than 4096 bytes\n");
    EXPECT_EQ(roundTrip(std::string(100000, 'x')), "error: command longer than 4096 bytes\n");
    EXPECT_TRUE(handler_.calls.empty());
}

TEST_F(ControlServerTest, AnEmptyLineGetsAHint) {
    listening();
    EXPECT_EQ(roundTrip("\n"), "error: empty command; try \"help\"\n");
    EXPECT_EQ(roundTrip(" \t --json\r\n"), "error: empty command; try \"help\"\n");
    EXPECT_TRUE(handler_.calls.empty());
}

TEST_F(ControlServerTest, ASilentClientIsDroppedAfterTheTimeout) {
    ControlServer& server = listening(200);
    const auto start = Clock::now();
    const std::string reply = withClient([&] {
        const int fd = connectTo(path_);
        std::string r = readAll(fd);
        ::close(fd);
        return r;
    });
    const auto elapsed = Clock::now() - start;
    EXPECT_EQ(reply, "");
    EXPECT_GE(elapsed, 150ms);
    EXPECT_LT(elapsed, 3s);
    EXPECT_TRUE(handler_.calls.empty());
    settle();
    EXPECT_EQ(server.clientCount(), 0u);
}

TEST_F(ControlServerTest, APartialLineIsDroppedAfterTheTimeoutWithoutRunning) {
    listening(200);
    EXPECT_EQ(roundTrip("del server app/app1"), "");
    EXPECT_TRUE(handler_.calls.empty());
}

TEST_F(ControlServerTest, EndOfInputMidLineRunsNothing) {
    listening();
    const std::string reply = withClient([&] {
        const int fd = connectTo(path_);
        sendAll(fd, "del server app/app1");
        ::shutdown(fd, SHUT_WR);
        std::string r = readAll(fd);
        ::close(fd);
        return r;
    });
    EXPECT_EQ(reply, "error: command must end with a newline\n");
    EXPECT_TRUE(handler_.calls.empty());
}

TEST_F(ControlServerTest, ClientsThatLeaveEarlyDoNotDisturbTheServer) {
    ControlServer& server = listening();
    withClient([&] {
        for (const char* bytes : {"", "stat", "status\n"}) {
            const int fd = connectTo(path_);
            sendAll(fd, bytes);
            ::close(fd);  // before any reply
        }
        return 0;
    });
    // The last one may or may not have run; its reply went nowhere. The server still works.
    EXPECT_EQ(roundTrip("status\n"), "ok: status\n");
    settle();
    EXPECT_EQ(server.clientCount(), 0u);
}

TEST_F(ControlServerTest, ASilentClientDoesNotBlockOthers) {
    listening();  // 5 s timeout: the answer below must not wait for it
    const auto start = Clock::now();
    const std::string reply = withClient([&] {
        const int silent = connectTo(path_);
        std::string r = sendLine(path_, "status\n");
        ::close(silent);
        return r;
    });
    EXPECT_EQ(reply, "ok: status\n");
    EXPECT_LT(Clock::now() - start, 2s);
}

// True when `fd` has something to read (bytes, EOF or an error) right now.
bool readable(int fd) {
    pollfd pfd{fd, POLLIN, 0};
    return ::poll(&pfd, 1, 0) == 1;
}

// True when the server closed `fd` without sending anything (EOF, not a receive timeout).
bool closedSilently(int fd) {
    char c;
    return ::recv(fd, &c, 1, 0) == 0;
}

TEST_F(ControlServerTest, WhenFullTheOldestIdleConnectionMakesRoom) {
    ControlServer& server = listening(60000);  // the idle timeout plays no part
    std::vector<int> idle;
    const std::string reply = withClient([&] {
        for (size_t i = 0; i < kMaxControlClients; ++i) idle.push_back(connectTo(path_));
        sendAll(idle[1], "stat");  // a partial line: still idle
        return sendLine(path_, "status\n");
    });
    EXPECT_EQ(reply, "ok: status\n");
    // The oldest one was closed without a word; the second oldest, and every other, is open.
    EXPECT_TRUE(withClient([&] { return closedSilently(idle[0]); }));
    for (size_t i = 1; i < idle.size(); ++i) EXPECT_FALSE(readable(idle[i])) << i;
    settleTo(server, kMaxControlClients - 1);
    EXPECT_EQ(server.clientCount(), kMaxControlClients - 1);
    // Full again: the next oldest goes.
    EXPECT_EQ(withClient([&] {
                  idle.push_back(connectTo(path_));
                  return sendLine(path_, "status\n");
              }),
              "ok: status\n");
    EXPECT_TRUE(withClient([&] { return closedSilently(idle[1]); }));
    EXPECT_FALSE(readable(idle[2]));
    for (int fd : idle) ::close(fd);
    EXPECT_EQ(handler_.calls.size(), 2u);
}

TEST_F(ControlServerTest, WhenFullAnAnsweredConnectionGoesBeforeAnIdleOne) {
    ControlServer& server = makeServer(60000, /*linger_ms=*/60000);
    std::string error;
    ASSERT_TRUE(server.listen(path_, 0660, &error)) << error;
    int answered = -1;
    std::vector<int> idle;
    const std::string reply = withClient([&] {
        answered = connectTo(path_);
        sendAll(answered, "help\n");
        std::string first = readAll(answered);  // the reply, then EOF; it stays open
        for (size_t i = 1; i < kMaxControlClients; ++i) idle.push_back(connectTo(path_));
        return first + sendLine(path_, "status\n");
    });
    EXPECT_EQ(reply, "ok: help\nok: status\n");
    for (int fd : idle) EXPECT_FALSE(readable(fd));
    settleTo(server, kMaxControlClients - 1);
    EXPECT_EQ(server.clientCount(), kMaxControlClients - 1);
    // The answered one was closed: writing to it fails.
    EXPECT_EQ(::send(answered, "x", 1, MSG_NOSIGNAL), -1);
    ::close(answered);
    for (int fd : idle) ::close(fd);
}

TEST_F(ControlServerTest, ABurstOfNewConnectionsCannotPushOutACommandWaitingToBeRead) {
    ControlServer& server = listening(60000);
    std::vector<int> idle;
    withClient([&] {
        for (size_t i = 0; i < kMaxControlClients; ++i) idle.push_back(connectTo(path_));
        return 0;
    });
    settleTo(server, kMaxControlClients);
    ASSERT_EQ(server.clientCount(), kMaxControlClients);
    // While the loop is busy elsewhere: an admin's command, then a burst of as many newcomers
    // as there are idle connections. Accepted in one go, the burst would push out every older
    // idle connection and then the admin's, before its command was read.
    const int admin = connectTo(path_);
    sendAll(admin, "status\n");
    std::vector<int> burst;
    for (size_t i = 0; i < kMaxControlClients; ++i) burst.push_back(connectTo(path_));
    EXPECT_EQ(withClient([&] { return readAll(admin); }), "ok: status\n");
    ::close(admin);
    for (int fd : idle) ::close(fd);
    for (int fd : burst) ::close(fd);
}

// Sends `bytes` in one go and reads until the server closes. *reset: it ended with ECONNRESET.
std::string exchange(const std::string& path, const std::string& bytes, bool* reset) {
    *reset = false;
    const int fd = connectTo(path);
    if (fd < 0) return "<connect failed>";
    sendAll(fd, bytes);
    std::string out;
    char buf[4096];
    while (true) {
        const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n > 0) {
            out.append(buf, static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        *reset = n < 0 && errno == ECONNRESET;
        break;
    }
    ::close(fd);
    return out;
}

TEST_F(ControlServerTest, BytesLeftUnreadDoNotResetTheReply) {
    // The server closed with the client's surplus bytes unread: the kernel reset the
    // connection and a client reading to the end got ECONNRESET after (or instead of) its reply.
    ControlServer& server = listening();
    struct Case {
        std::string bytes;
        std::string reply;
    };
    const std::vector<Case> cases = {
        {"status\nstatus\n", "ok: status\n"},
        {"status\n" + std::string(100000, 'x') + "\n", "ok: status\n"},
        {std::string(100000, 'x') + "\n", "error: command longer than 4096 bytes\n"},
        {"\n" + std::string(100000, 'x'), "error: empty command; try \"help\"\n"},
    };
    for (size_t c = 0; c < cases.size(); ++c) {
        int resets = 0;
        for (int i = 0; i < 50; ++i) {
            bool reset = false;
            const std::string reply =
                withClient([&] { return exchange(path_, cases[c].bytes, &reset); });
            EXPECT_EQ(reply, cases[c].reply) << "case " << c;
            resets += reset ? 1 : 0;
        }
        EXPECT_EQ(resets, 0) << "case " << c;
    }
    settleTo(server, 0);
    EXPECT_EQ(server.clientCount(), 0u);
}

TEST_F(ControlServerTest, AClientThatKeepsTheConnectionAfterItsReplyIsClosedLater) {
    ControlServer& server = makeServer(kDefaultIdleTimeoutMs, /*linger_ms=*/200);
    std::string error;
    ASSERT_TRUE(server.listen(path_, 0660, &error)) << error;
    int fd = -1;
    const std::string reply = withClient([&] {
        fd = connectTo(path_);
        sendAll(fd, "status\n");
        return readAll(fd);  // reply, then EOF: the server shut down its side
    });
    EXPECT_EQ(reply, "ok: status\n");
    settleTo(server, 0);
    EXPECT_EQ(server.clientCount(), 0u);
    ::close(fd);
}

TEST_F(ControlServerTest, AStaleSocketFileIsReplaced) {
    {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path_.data(), path_.size());
        ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
        ::close(fd);  // leaves the file behind, like a crashed process
    }
    struct stat st;
    ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
    listening();
    EXPECT_EQ(roundTrip("status\n"), "ok: status\n");
}

TEST_F(ControlServerTest, ALiveSocketIsAnError) {
    listening();
    ControlServer& second = makeServer();
    std::string error;
    EXPECT_FALSE(second.listen(path_, 0660, &error));
    EXPECT_EQ(error, "cannot create control socket " + path_ +
                         ": another process is listening on it (is sluice already running?)");
    EXPECT_FALSE(second.listening());
    // The first one is untouched and still answers.
    EXPECT_EQ(roundTrip("status\n"), "ok: status\n");
}

TEST_F(ControlServerTest, AFileThatIsNotASocketIsLeftAlone) {
    std::ofstream(path_) << "precious";
    std::string error;
    EXPECT_FALSE(makeServer().listen(path_, 0660, &error));
    EXPECT_EQ(error,
              "cannot create control socket " + path_ + ": the path exists and is not a socket");
    std::ifstream in(path_);
    std::string content;
    in >> content;
    EXPECT_EQ(content, "precious");
}

TEST_F(ControlServerTest, AMissingDirectoryIsAClearError) {
    const std::string path = dir_ + "/run/sluice/control.sock";
    std::string error;
    EXPECT_FALSE(makeServer().listen(path, 0660, &error));
    EXPECT_EQ(error, "cannot create control socket " + path + ": directory " + dir_ +
                         "/run/sluice does not exist");
}

TEST_F(ControlServerTest, ATooLongPathIsAnError) {
    const std::string path = dir_ + "/" + std::string(120, 's');
    std::string error;
    EXPECT_FALSE(makeServer().listen(path, 0660, &error));
    EXPECT_NE(error.find("path is too long for a unix socket (at most 107 bytes)"),
              std::string::npos)
        << error;
}

TEST_F(ControlServerTest, TheModeIsAppliedWhateverTheUmask) {
    const mode_t old_umask = ::umask(077);
    listening(kDefaultIdleTimeoutMs, 0666);
    ::umask(old_umask);
    struct stat st;
    ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0666u);
    EXPECT_EQ(st.st_uid, ::geteuid());
}

TEST_F(ControlServerTest, ARestrictiveModeIsApplied) {
    listening(kDefaultIdleTimeoutMs, 0600);
    struct stat st;
    ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(ControlServerTest, CloseRemovesTheSocketFileAndListenWorksAgain) {
    ControlServer& server = listening();
    server.close();
    server.close();  // idempotent
    EXPECT_FALSE(server.listening());
    EXPECT_FALSE(std::filesystem::exists(path_));
    std::string error;
    ASSERT_TRUE(server.listen(path_, 0660, &error)) << error;
    EXPECT_EQ(roundTrip("status\n"), "ok: status\n");
}

TEST_F(ControlServerTest, DestructionRemovesTheSocketFileAndClosesClients) {
    listening();
    const int silent = withClient([&] { return connectTo(path_); });
    settle();  // accepted
    servers_.clear();
    EXPECT_FALSE(std::filesystem::exists(path_));
    const std::string reply = withClient([&] { return readAll(silent); });
    ::close(silent);
    EXPECT_EQ(reply, "");
}

TEST_F(ControlServerTest, CloseDoesNotRemoveASocketThatIsNoLongerItsOwn) {
    ControlServer& server = listening();
    ASSERT_EQ(::unlink(path_.c_str()), 0);  // e.g. an admin removed it and another instance
    ControlServer& other = makeServer();    // started on the same path
    std::string error;
    ASSERT_TRUE(other.listen(path_, 0660, &error)) << error;
    server.close();
    EXPECT_TRUE(std::filesystem::exists(path_));
    EXPECT_EQ(roundTrip("status\n"), "ok: status\n");
}

TEST_F(ControlServerTest, CloseFromTheHandlerStillDeliversTheReply) {
    ControlServer& server = listening();
    handler_.respond = [&](const std::vector<std::string>&, bool) {
        server.close();
        return std::string("ok: closing");
    };
    EXPECT_EQ(roundTrip("stop\n"), "ok: closing\n");
    EXPECT_FALSE(server.listening());
    EXPECT_FALSE(std::filesystem::exists(path_));
    EXPECT_EQ(withClient([&] { return connectTo(path_); }), -1);
}

TEST_F(ControlServerTest, AnExceptionFromTheHandlerBecomesAnError) {
    listening();
    handler_.respond = [](const std::vector<std::string>&, bool) -> std::string {
        throw std::runtime_error("boom");
    };
    EXPECT_EQ(roundTrip("status\n"), "error: internal error: boom\n");
    handler_.respond = nullptr;
    EXPECT_EQ(roundTrip("status\n"), "ok: status\n");
}

TEST_F(ControlServerTest, ListeningTwiceIsAnError) {
    ControlServer& server = listening();
    std::string error;
    EXPECT_FALSE(server.listen(dir_ + "/other.sock", 0660, &error));
    EXPECT_NE(error.find("already listening on " + path_), std::string::npos) << error;
}

}  // namespace
}  // namespace sluice::control
