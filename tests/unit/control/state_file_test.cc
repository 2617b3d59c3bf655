#include "control/state_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace sluice::control {
namespace {

class StateFileTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/sluice-state-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/state.json";
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    void writeText(const std::string& text) { std::ofstream(path_, std::ios::binary) << text; }
    std::string readText() {
        std::ifstream in(path_, std::ios::binary);
        std::ostringstream out;
        out << in.rdbuf();
        return out.str();
    }
    std::string readError(const std::string& text) {
        writeText(text);
        RuntimeState state;
        state.servers.push_back({});
        std::string error;
        EXPECT_FALSE(readStateFile(path_, &state, &error)) << text;
        EXPECT_TRUE(state.servers.empty());
        return error;
    }

    static RuntimeState sample() {
        RuntimeState state;
        ServerOverride drained;
        drained.pool = "app";
        drained.name = "app2";
        drained.state = upstream::AdminState::kDrain;
        drained.weight = 5;
        ServerOverride added;
        added.pool = "app";
        added.name = "app9";
        added.added = true;
        added.address = "127.0.0.1:8009";
        ServerOverride backup;
        backup.pool = "api";
        backup.name = "b\"1";
        backup.state = upstream::AdminState::kMaint;
        backup.added = true;
        backup.address = "[::1]:9000";
        backup.backup = true;
        state.servers = {drained, added, backup};
        return state;
    }

    std::string dir_;
    std::string path_;
};

TEST_F(StateFileTest, RoundTrips) {
    const RuntimeState written = sample();
    std::string error;
    ASSERT_TRUE(writeStateFile(path_, written, &error)) << error;
    RuntimeState read;
    ASSERT_TRUE(readStateFile(path_, &read, &error)) << error;
    EXPECT_EQ(read, written);
}

TEST_F(StateFileTest, WritesTheDocumentedFormatOneServerPerLine) {
    RuntimeState state = sample();
    state.servers.pop_back();
    std::string error;
    ASSERT_TRUE(writeStateFile(path_, state, &error)) << error;
    EXPECT_EQ(readText(),
              "{\"version\":1,\"servers\":[\n"
              "  {\"pool\":\"app\",\"name\":\"app2\",\"state\":\"drain\",\"weight\":5},\n"
              "  {\"pool\":\"app\",\"name\":\"app9\",\"added\":true,\"address\":\"127.0.0.1:8009\","
              "\"backup\":false}\n"
              "]}\n");
    EXPECT_EQ(formatStateFile(RuntimeState{}), "{\"version\":1,\"servers\":[]}\n");
}

TEST_F(StateFileTest, MissingFileIsAnEmptyState) {
    RuntimeState state = sample();
    std::string error;
    EXPECT_TRUE(readStateFile(path_, &state, &error));
    EXPECT_TRUE(state.servers.empty());
    EXPECT_TRUE(error.empty());
}

TEST_F(StateFileTest, WriteIsAtomicAndLeavesNoTemporaryFile) {
    std::string error;
    ASSERT_TRUE(writeStateFile(path_, sample(), &error)) << error;
    ASSERT_TRUE(writeStateFile(path_, RuntimeState{}, &error)) << error;  // replaces
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
        names.push_back(entry.path().filename().string());
    }
    EXPECT_EQ(names, std::vector<std::string>{"state.json"});
    EXPECT_EQ(readText(), "{\"version\":1,\"servers\":[]}\n");
}

TEST_F(StateFileTest, NewFileIs0644AndAnExistingModeIsKept) {
    std::string error;
    ASSERT_TRUE(writeStateFile(path_, sample(), &error)) << error;
    struct stat st;
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);

    ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
    ASSERT_TRUE(writeStateFile(path_, RuntimeState{}, &error)) << error;
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(StateFileTest, WriteIntoMissingDirectoryFailsAndSaysWhy) {
    const std::string path = dir_ + "/nope/state.json";
    std::string error;
    EXPECT_FALSE(writeStateFile(path, sample(), &error));
    EXPECT_EQ(error, path + ": cannot write: directory " + dir_ + "/nope does not exist");
}

TEST_F(StateFileTest, SyntaxErrorsNameFileLineAndColumn) {
    EXPECT_EQ(readError("{\"version\":1,\n \"servers\":[,]}"),
              path_ + ":2:13: unexpected ',', expected a value");
    EXPECT_EQ(readError(""), path_ + ":1:1: unexpected end of input, expected a value");
}

TEST_F(StateFileTest, FormatErrorsNameTheEntry) {
    const std::string p = path_ + ": ";
    EXPECT_EQ(readError("[]"), p + "expected a JSON object at the top level, got array");
    EXPECT_EQ(readError(R"({"servers":[]})"), p + "missing \"version\"");
    EXPECT_EQ(readError(R"({"version":2,"servers":[]})"), p + "unsupported version 2 (expected 1)");
    EXPECT_EQ(readError(R"({"version":1,"extra":0})"), p + "unknown key \"extra\"");
    EXPECT_EQ(readError(R"({"version":1,"servers":{}})"), p + "\"servers\" must be an array");
    EXPECT_EQ(readError(R"({"version":1,"servers":[1]})"),
              p + "servers[0]: expected an object, got number");
    EXPECT_EQ(readError(R"({"version":1,"servers":[{"name":"a"}]})"),
              p + "servers[0]: missing \"pool\"");
    EXPECT_EQ(readError(R"({"version":1,"servers":[{"pool":"p","name":""}]})"),
              p + "servers[0]: \"name\" must be a non-empty string");
    EXPECT_EQ(readError(R"({"version":1,"servers":[{"pool":"p","name":"a","state":"up"}]})"),
              p + "servers[0] (p/a): \"state\" must be \"ready\", \"drain\" or \"maint\"");
    EXPECT_EQ(readError(R"({"version":1,"servers":[{"pool":"p","name":"a","weight":1.5}]})"),
              p + "servers[0] (p/a): \"weight\" must be a non-negative integer");
    EXPECT_EQ(readError(R"({"version":1,"servers":[{"pool":"p","name":"a","weight":-1}]})"),
              p + "servers[0] (p/a): \"weight\" must be a non-negative integer");
    EXPECT_EQ(readError(R"({"version":1,"servers":[{"pool":"p","name":"a","address":"x:1"}]})"),
              p + "servers[0] (p/a): \"address\" is only allowed with \"added\": true");
    EXPECT_EQ(readError(R"({"version":1,"servers":[{"pool":"p","name":"a","added":true}]})"),
              p + "servers[0] (p/a): missing \"address\"");
    EXPECT_EQ(readError(R"({"version":1,"servers":[{"pool":"p","name":"a","port":1}]})"),
              p + "servers[0]: unknown key \"port\"");
    EXPECT_EQ(readError(R"({"version":1,"servers":[{"pool":"p","name":"a"},)"
                        R"({"pool":"p","name":"a","weight":2}]})"),
              p + "servers[1]: duplicate entry for p/a");
}

TEST_F(StateFileTest, NullMeansNoOverride) {
    writeText(R"({"version":1,"servers":[{"pool":"p","name":"a","state":null,"weight":null}]})");
    RuntimeState state;
    std::string error;
    ASSERT_TRUE(readStateFile(path_, &state, &error)) << error;
    ASSERT_EQ(state.servers.size(), 1u);
    EXPECT_FALSE(state.servers[0].state.has_value());
    EXPECT_FALSE(state.servers[0].weight.has_value());
}

TEST_F(StateFileTest, UnreadablePathIsAnError) {
    RuntimeState state;
    std::string error;
    EXPECT_FALSE(readStateFile(dir_, &state, &error));
    EXPECT_EQ(error.rfind(dir_ + ": cannot read: ", 0), 0u) << error;
}

}  // namespace
}  // namespace sluice::control
