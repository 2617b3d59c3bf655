// The `upgrade` command: answered later through Process::upgrade(), in text and JSON.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/commands.h"
#include "fake_process.h"

namespace sluice::control {
namespace {

const std::string& kUpgradeFile = testing::kOneServerFile;

class UpgradingProcess : public testing::FakeProcess {
  public:
    UpgradingProcess() : FakeProcess(kUpgradeFile) {}
    void upgrade(std::function<void(const UpgradeOutcome&)> done) override {
        pending = std::move(done);
    }
    std::function<void(const UpgradeOutcome&)> pending;
};

TEST(CommandsUpgrade, RepliesOnceTheProcessSaysHowItWent) {
    UpgradingProcess process;
    Commands commands(process);
    std::vector<std::string> replies;
    ASSERT_TRUE(commands.executeLater({"upgrade"}, false,
                                      [&](const std::string& r) { replies.push_back(r); }));
    EXPECT_TRUE(replies.empty());
    UpgradeOutcome outcome;
    outcome.ok = true;
    outcome.old_pid = 10;
    outcome.new_pid = 11;
    outcome.version = "1.2.3";
    process.pending(outcome);
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_EQ(replies[0], "ok: upgraded, pid 10 -> 11 (version 1.2.3)\n");
}

TEST(CommandsUpgrade, FailuresAreErrorsInTextAndJson) {
    UpgradeOutcome failed;
    failed.error = "the new process exited with status 1 before it was ready";
    EXPECT_EQ(Commands::upgradeReply(failed, false),
              "error: upgrade failed: the new process exited with status 1 before it was ready\n");
    EXPECT_EQ(Commands::upgradeReply(failed, true),
              "{\"error\":\"upgrade failed: the new process exited with status 1 before it was "
              "ready\"}\n");
    UpgradeOutcome ok;
    ok.ok = true;
    ok.old_pid = 1;
    ok.new_pid = 2;
    ok.version = "v";
    EXPECT_EQ(Commands::upgradeReply(ok, true),
              "{\"ok\":true,\"old_pid\":1,\"new_pid\":2,\"version\":\"v\"}\n");
}

TEST(CommandsUpgrade, OtherCommandsAndArgumentsAreNotLater) {
    UpgradingProcess process;
    Commands commands(process);
    const auto never = [](const std::string&) { FAIL() << "no later reply expected"; };
    EXPECT_FALSE(commands.executeLater({"status"}, false, never));
    EXPECT_FALSE(commands.executeLater({"upgrade", "now"}, false, never));
    EXPECT_FALSE(process.pending);
}

TEST(CommandsUpgrade, WithoutSupportTheReplyIsAnError) {
    testing::FakeProcess process(kUpgradeFile);
    Commands commands(process);
    std::string reply;
    ASSERT_TRUE(
        commands.executeLater({"upgrade"}, false, [&](const std::string& r) { reply = r; }));
    EXPECT_EQ(reply, "error: upgrade failed: upgrade is not supported by this process\n");
}

}  // namespace
}  // namespace sluice::control
