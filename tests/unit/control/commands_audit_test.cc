// Audit lines and honest replies (control.md): every state-changing command logged once with
// its outcome and the caller's uid; `ok` only when the state file was written too.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "base/log.h"
#include "control/commands.h"
#include "fake_process.h"

namespace sluice::control {
namespace {

// testing::kOneServerFile with its state file at `state_file`.
std::string auditFile(const std::string& state_file) {
    std::string file = testing::kOneServerFile;
    const std::string mark = "STATE_FILE";
    return file.replace(file.find(mark), mark.size(), state_file);
}

class CommandsAuditTest : public ::testing::Test {
  protected:
    void SetUp() override {
        log_path_ = std::filesystem::temp_directory_path() /
                    ("sluice-audit-" + std::to_string(::getpid()) + ".log");
        std::string error;
        ASSERT_TRUE(log::setTarget(log_path_, &error)) << error;
    }
    void TearDown() override {
        std::string error;
        log::setTarget("stderr", &error);
        std::filesystem::remove(log_path_);
    }
    std::string logText() {
        std::ifstream in(log_path_);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }
    std::string log_path_;
};

TEST_F(CommandsAuditTest, ChangesAreLoggedOnceWithOutcomeAndUid) {
    testing::FakeProcess process(auditFile("STATE_FILE"));
    Commands commands(process);
    commands.setCaller({1234, 99});
    EXPECT_EQ(commands.execute({"set", "server", "app/app1", "state", "drain"}, false),
              "ok: server app/app1 state drain\n");
    commands.setCaller({1234, 99});
    EXPECT_TRUE(commands.execute({"set", "server", "app/nope", "state", "drain"}, true)
                    .starts_with("{\"error\""));
    commands.setCaller({1234, 99});
    commands.execute({"status"}, false);  // reads only: not logged
    const std::string text = logText();
    EXPECT_NE(text.find("[info] control: \"set server app/app1 state drain\" from uid 1234 "
                        "(pid 99): ok: server app/app1 state drain\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("control: \"set server app/nope state drain\" from uid 1234 (pid 99): "
                        "error: no server app/nope\n"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("\"status\""), std::string::npos) << text;
    size_t lines = 0;
    for (size_t at = 0; (at = text.find("control: ", at)) != std::string::npos; ++at) ++lines;
    EXPECT_EQ(lines, 2u) << text;
}

TEST_F(CommandsAuditTest, AStateFileThatCannotBeWrittenMakesTheReplyAnError) {
    testing::FakeProcess process(auditFile("/nonexistent-sluice-dir/state.json"));
    Commands commands(process);
    const std::string reply = commands.execute({"set", "server", "app/app1", "weight", "5"}, false);
    EXPECT_TRUE(
        reply.starts_with("error: server app/app1 weight 5 (in the running process), but "
                          "the state file could not be written: "))
        << reply;
    // It did happen in the running process.
    EXPECT_EQ(process.snapshot()->pools[0]->servers[0].state->weight.load(), 5u);
    const std::string json = commands.execute({"clear", "server", "app/app1"}, true);
    EXPECT_TRUE(json.starts_with("{\"error\":\"server app/app1 back to its configured")) << json;
}

}  // namespace
}  // namespace sluice::control
