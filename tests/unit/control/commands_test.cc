#include "control/commands.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "base/json.h"
#include "control/state_file.h"
#include "fake_process.h"

namespace sluice::control {
namespace {

using testing::FakeProcess;

const std::string kServedFile = R"([global]
state_file = "STATE_FILE"

[[listener]]
name = "web"
bind = "127.0.0.1:8080"
pool = "app"

[[pool]]
name = "app"
algorithm = "least_conn"
  [[pool.server]]
  name = "app1"
  address = "127.0.0.1:8001"
  [[pool.server]]
  name = "app2"
  address = "127.0.0.1:8002"
  weight = 3
  backup = true

[[pool]]
name = "api"
  [pool.health_check]
  path = "/up"
  [[pool.server]]
  name = "api1"
  address = "127.0.0.1:9001"
)";

// The file after an edit: api loses its check, app gains app3, api1 moves.
const std::string kEdited = R"([global]
state_file = "STATE_FILE"

[[listener]]
name = "web"
bind = "127.0.0.1:8080"
pool = "app"

[[pool]]
name = "app"
algorithm = "least_conn"
  [[pool.server]]
  name = "app1"
  address = "127.0.0.1:8001"
  [[pool.server]]
  name = "app2"
  address = "127.0.0.1:8002"
  weight = 3
  backup = true
  [[pool.server]]
  name = "app3"
  address = "127.0.0.1:8003"

[[pool]]
name = "api"
  [[pool.server]]
  name = "api1"
  address = "127.0.0.1:9011"
)";

class CommandsTest : public ::testing::Test {
  protected:
    CommandsTest() : process_(kServedFile), commands_(process_) {
        process_.status_ = {4242, 75, "/etc/sluice/sluice.toml", 1, 2, 3, 10, 20};
        commands_.start(process_.fileConfig());
    }

    // Runs one command line ("--json" at the end selects JSON, as the control socket does).
    std::string run(const std::string& line) {
        bool json = false;
        const std::vector<std::string> args = tokenize(line, &json);
        return commands_.execute(args, json);
    }
    Json runJson(const std::string& line) { return Json::parse(run(line + " --json")); }

    const upstream::Server* server(const std::string& pool, const std::string& name) {
        const auto snapshot = process_.snapshot();
        const int index = snapshot->poolIndex(pool);
        if (index < 0) return nullptr;
        for (const auto& s : snapshot->pools[static_cast<size_t>(index)]->servers) {
            if (s.config.name == name) return &s;
        }
        return nullptr;
    }
    std::string stateFileText() {
        std::ifstream in(process_.statePath());
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }
    RuntimeState stateFile() {
        RuntimeState state;
        std::string error;
        EXPECT_TRUE(readStateFile(process_.statePath(), &state, &error)) << error;
        return state;
    }

    FakeProcess process_;
    Commands commands_;
};

TEST_F(CommandsTest, HelpListsEveryCommand) {
    const std::string help = run("help");
    for (const char* command :
         {"status", "reload", "show pools", "show servers [POOL]", "show stats",
          "set server POOL/NAME state ready|drain|maint", "set server POOL/NAME weight N",
          "clear server POOL/NAME", "add server POOL/NAME ADDRESS [weight N] [backup]",
          "del server POOL/NAME", "--json"}) {
        EXPECT_NE(help.find(command), std::string::npos) << command;
    }
}

TEST_F(CommandsTest, StatusInTextAndJson) {
    const std::string text = run("status");
    EXPECT_NE(text.find("\npid 4242\nuptime 75s\nconfig /etc/sluice/sluice.toml\ngeneration 1\n"
                        "workers 2\nopen connections 3\nrequests served 20\n"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.rfind("version ", 0), 0u);
    const Json json = runJson("status");
    EXPECT_EQ(json["pid"], 4242);
    EXPECT_EQ(json["uptime_s"], 75);
    EXPECT_EQ(json["config_file"], "/etc/sluice/sluice.toml");
    EXPECT_EQ(json["generation"], 1);
    EXPECT_EQ(json["workers"], 2);
    EXPECT_EQ(json["open_connections"], 3);
    EXPECT_EQ(json["requests"], 20);
    EXPECT_TRUE(json["version"].is_string());
}

TEST_F(CommandsTest, UnknownCommandsAndWrongArgumentsAreErrors) {
    for (const char* line :
         {"frobnicate", "show", "show pools extra", "show servers a b", "show nothing", "set",
          "set server", "set pool app/app1 weight 2", "add server"}) {
        const std::string reply = run(line);
        EXPECT_EQ(reply.rfind("error: unknown command \"", 0), 0u) << line << ": " << reply;
        EXPECT_NE(reply.find("try \"help\""), std::string::npos) << reply;
    }
}

TEST_F(CommandsTest, ErrorsAreJsonWithJson) {
    EXPECT_EQ(run("frobnicate --json"),
              "{\"error\":\"unknown command \\\"frobnicate\\\" (or wrong arguments); try "
              "\\\"help\\\"\"}\n");
    EXPECT_EQ(runJson("show servers nope"), Json({{"error", "no pool named \"nope\""}}));
    EXPECT_EQ(runJson("set server app/app1 weight 0"), Json({{"error", "weight must be 1..1000"}}));
    EXPECT_EQ(runJson("add server app/app1 127.0.0.1:1"),
              Json({{"error", "server app/app1 already exists"}}));
    process_.nextFileInvalid({"test.toml:3:1: bad", "test.toml:9:2: worse"});
    EXPECT_EQ(runJson("reload"),
              Json({{"error", "configuration not reloaded (2 errors)"},
                    {"errors", {"test.toml:3:1: bad", "test.toml:9:2: worse"}}}));
    // What is not an error stays as it was.
    EXPECT_EQ(run("set server app/app1 weight 2 --json"), "ok: server app/app1 weight 2\n");
}

TEST_F(CommandsTest, ShowPoolsInTextAndJson) {
    server("app", "app1")->state->active.store(2);
    server("app", "app2")->state->healthy.store(false);
    EXPECT_EQ(run("show pools"),
              "POOL  ALGORITHM    AVAILABLE  ACTIVE  QUEUED\n"
              "app   least_conn   1/2        2       0\n"
              "api   round_robin  1/1        0       0\n");
    const Json json = runJson("show pools");
    ASSERT_EQ(json["pools"].size(), 2u);
    EXPECT_EQ(json["pools"][0], Json({{"name", "app"},
                                      {"algorithm", "least_conn"},
                                      {"servers_available", 1},
                                      {"servers_total", 2},
                                      {"active", 2},
                                      {"queued", 0}}));
}

TEST_F(CommandsTest, ShowServersInTextAndJsonMarksRuntimeChanges) {
    process_.checks_.push_back({"api", "api1", {"HTTP 200", 1'700'000'000'000}});
    server("app", "app1")->state->ejected_until_ms.store(process_.now_ms_ + 1500);
    ASSERT_EQ(run("set server app/app2 weight 7"), "ok: server app/app2 weight 7\n");
    const std::string text = run("show servers");
    EXPECT_NE(text.find("app   app1  127.0.0.1:8001  1       no      ready  up      2s       0"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("app   app2  127.0.0.1:8002  7*      yes     ready"), std::string::npos)
        << text;
    EXPECT_NE(text.find("HTTP 200    2023-11-14T22:13:20Z"), std::string::npos) << text;
    EXPECT_NE(text.find("no check"), std::string::npos) << text;
    EXPECT_NE(text.find("(* = set at runtime"), std::string::npos);

    const Json json = runJson("show servers api");
    ASSERT_EQ(json["servers"].size(), 1u);
    const Json& api1 = json["servers"][0];
    EXPECT_EQ(api1["pool"], "api");
    EXPECT_EQ(api1["address"], "127.0.0.1:9001");
    EXPECT_EQ(api1["admin"], "ready");
    EXPECT_EQ(api1["health"], "up");
    EXPECT_EQ(api1["last_check"], "HTTP 200");
    EXPECT_EQ(api1["last_change"], "2023-11-14T22:13:20Z");
    EXPECT_EQ(api1["runtime"], Json({{"added", false}, {"weight", false}, {"admin", false}}));
    const Json app = runJson("show servers app");
    EXPECT_EQ(app["servers"][1]["weight"], 7);
    EXPECT_EQ(app["servers"][1]["runtime"]["weight"], true);
    EXPECT_EQ(app["servers"][0]["ejected"], true);
    EXPECT_EQ(app["servers"][0]["last_check"], "no check");

    EXPECT_EQ(run("show servers nope"), "error: no pool named \"nope\"\n");
}

TEST_F(CommandsTest, JsonRepliesStayValidWithBytesThatAreNotUtf8) {
    // A health check result may carry what an upstream sent.
    process_.checks_.push_back({"api", "api1", {"HTTP 503 \xff\xfe", 0}});
    const std::string reply = run("show servers api --json");
    const Json json = Json::parse(reply);  // throws on invalid UTF-8
    EXPECT_EQ(json["servers"][0]["last_check"], "HTTP 503 \xef\xbf\xbd\xef\xbf\xbd");
}

TEST_F(CommandsTest, ShowStatsInTextAndJson) {
    auto& st = *server("app", "app1")->state;
    st.requests.store(4);
    st.failures.store(1);
    st.recordLatency(10);
    st.recordLatency(20);
    const std::string text = run("show stats");
    EXPECT_NE(text.find("process   -         20        -         -                  -       "
                        "accepted 10, client_aborts 0, refused_per_ip 0, rate_limited 0"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("server    app/app1  4         1         15                 20      "
                        "ejections 0"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("pool      app       4         1         15                 20      "
                        "queued 0"),
              std::string::npos)
        << text;
    const Json json = runJson("show stats");
    EXPECT_EQ(json["process"], Json({{"accepted", 10},
                                     {"client_aborts", 0},
                                     {"open_connections", 3},
                                     {"rate_limited", 0},
                                     {"refused_per_ip", 0},
                                     {"requests", 20}}));
    // Without counting scopes (this fake's snapshot has none) the rows are there, at zero.
    EXPECT_EQ(json["listeners"][0],
              Json({{"name", "web"},
                    {"bind", "127.0.0.1:8080"},
                    {"mode", "http"},
                    {"connections_total", 0},
                    {"active_connections", 0},
                    {"requests", {{"1xx", 0}, {"2xx", 0}, {"3xx", 0}, {"4xx", 0}, {"5xx", 0}}},
                    {"bytes_received", 0},
                    {"bytes_sent", 0},
                    {"rate_limited", 0}}));
    EXPECT_EQ(json["pools"][0]["name"], "app");
    EXPECT_TRUE(json["pools"][0]["latency_ms"].is_null());
    EXPECT_EQ(json["servers"][0]["requests_by_code"]["2xx"], 0);
    EXPECT_NE(text.find("SCOPE     NAME      1XX  2XX  3XX  4XX  5XX  P50 MS  P90 MS  P99 MS\n"
                        "listener  web       0    0    0    0    0    -       -       -\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("listener  web       0         -         -                  -       "
                        "connections 0, active 0, bytes in 0, out 0"),
              std::string::npos)
        << text;
    EXPECT_EQ(json["servers"][0]["first_byte_ms_avg"], 15.0);
    EXPECT_EQ(json["servers"][0]["first_byte_ms_max"], 20);
    EXPECT_EQ(json["servers"].size(), 3u);
}

TEST_F(CommandsTest, SetStateAndWeightChangeTheServerAndThePersistedState) {
    EXPECT_EQ(run("set server app/app1 state drain"), "ok: server app/app1 state drain\n");
    EXPECT_EQ(run("set server app/app1 weight 40"), "ok: server app/app1 weight 40\n");
    EXPECT_EQ(run("set server api/api1 state maint --json"), "ok: server api/api1 state maint\n");
    EXPECT_EQ(server("app", "app1")->state->admin.load(), upstream::AdminState::kDrain);
    EXPECT_EQ(server("app", "app1")->state->weight.load(), 40u);
    EXPECT_EQ(server("api", "api1")->state->admin.load(), upstream::AdminState::kMaint);
    EXPECT_EQ(process_.publishes, 0);  // in place: no new generation
    EXPECT_EQ(stateFileText(),
              "{\"version\":1,\"servers\":[\n"
              "  {\"pool\":\"app\",\"name\":\"app1\",\"state\":\"drain\",\"weight\":40},\n"
              "  {\"pool\":\"api\",\"name\":\"api1\",\"state\":\"maint\"}\n"
              "]}\n");
    EXPECT_EQ(stateFile(), commands_.overrides());
}

TEST_F(CommandsTest, SetRejectsWhatItCannotDo) {
    const std::pair<const char*, const char*> cases[] = {
        {"set server app state drain", "error: expected POOL/NAME, got \"app\"\n"},
        {"set server /app1 state drain", "error: expected POOL/NAME, got \"/app1\"\n"},
        {"set server app/ state drain", "error: expected POOL/NAME, got \"app/\"\n"},
        {"set server web/app1 state drain", "error: no pool named \"web\"\n"},
        {"set server app/app7 state drain", "error: no server app/app7\n"},
        {"set server app/app1 state",
         "error: usage: set server POOL/NAME state ready|drain|maint\n"},
        {"set server app/app1 state up", "error: state must be ready, drain or maint\n"},
        {"set server app/app1 state DRAIN", "error: state must be ready, drain or maint\n"},
        {"set server app/app1 weight 0", "error: weight must be 1..1000\n"},
        {"set server app/app1 weight 1001", "error: weight must be 1..1000\n"},
        {"set server app/app1 weight 5x", "error: weight must be 1..1000\n"},
        {"set server app/app1 colour blue",
         "error: usage: set server POOL/NAME state ready|drain|maint | weight N\n"},
    };
    for (const auto& [line, reply] : cases) EXPECT_EQ(run(line), reply) << line;
    EXPECT_TRUE(commands_.overrides().servers.empty());
    EXPECT_FALSE(std::filesystem::exists(process_.statePath()));
}

TEST_F(CommandsTest, ClearGoesBackToTheFile) {
    run("set server app/app2 state maint");
    run("set server app/app2 weight 9");
    EXPECT_EQ(run("clear server app/app2"),
              "ok: server app/app2 back to its configured state and weight\n");
    EXPECT_EQ(server("app", "app2")->state->admin.load(), upstream::AdminState::kReady);
    EXPECT_EQ(server("app", "app2")->state->weight.load(), 3u);
    EXPECT_TRUE(commands_.overrides().servers.empty());
    EXPECT_EQ(stateFileText(), "{\"version\":1,\"servers\":[]}\n");
    // Clearing a server without overrides is fine; an unknown one is not.
    EXPECT_EQ(run("clear server app/app1"),
              "ok: server app/app1 back to its configured state and weight\n");
    EXPECT_EQ(run("clear server app/zz"), "error: no server app/zz\n");
}

TEST_F(CommandsTest, AddPublishesTheServerAndPersistsIt) {
    EXPECT_EQ(run("add server app/app9 127.0.0.1:8009 weight 5 backup"),
              "ok: server app/app9 added\n");
    EXPECT_EQ(process_.publishes, 1);
    const upstream::Server* s = server("app", "app9");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->config.address.text, "127.0.0.1:8009");
    EXPECT_TRUE(s->config.backup);
    EXPECT_EQ(s->state->weight.load(), 5u);
    EXPECT_EQ(process_.snapshot()->generation, 2u);
    EXPECT_NE(stateFileText().find("{\"pool\":\"app\",\"name\":\"app9\",\"weight\":5,\"added\":"
                                   "true,\"address\":\"127.0.0.1:8009\",\"backup\":true}"),
              std::string::npos)
        << stateFileText();
    // A pool with an active check: the server waits for its first passing check.
    EXPECT_EQ(run("add server api/api2 127.0.0.1:9002"),
              "ok: server api/api2 added; it joins after its first passing health check\n");
    const std::string shown = run("show servers");
    EXPECT_NE(shown.find("app9*"), std::string::npos) << shown;
    EXPECT_EQ(runJson("show servers api")["servers"][1]["runtime"]["added"], true);
}

TEST_F(CommandsTest, AddRejectsWhatItCannotDo) {
    const std::pair<const char*, const char*> cases[] = {
        {"add server app/app1 127.0.0.1:8001", "error: server app/app1 already exists\n"},
        {"add server app/bad!name 127.0.0.1:1", "error: invalid server name \"bad!name\"\n"},
        {"add server app/app9", "error: usage: add server POOL/NAME ADDRESS [weight N] [backup]\n"},
        {"add server app/app9 127.0.0.1:1 primary",
         "error: unexpected \"primary\"; usage: add server POOL/NAME ADDRESS [weight N] "
         "[backup]\n"},
        {"add server app/app9 127.0.0.1:1 weight",
         "error: unexpected \"weight\"; usage: add server POOL/NAME ADDRESS [weight N] "
         "[backup]\n"},
        {"add server app/app9 127.0.0.1:1 weight 0", "error: weight must be 1..1000\n"},
        {"add server nope/app9 127.0.0.1:1", "error: no pool named \"nope\"\n"},
    };
    for (const auto& [line, reply] : cases) EXPECT_EQ(run(line), reply) << line;
    const std::string bad_address = run("add server app/app9 127.0.0.1");
    EXPECT_EQ(bad_address.rfind("error: address \"127.0.0.1\": ", 0), 0u) << bad_address;
    EXPECT_EQ(process_.publishes, 0);

    process_.failNextPublish("cannot bind 127.0.0.1:8080: Address already in use");
    EXPECT_EQ(run("add server app/app9 127.0.0.1:8009"),
              "error: cannot bind 127.0.0.1:8080: Address already in use\n");
    EXPECT_EQ(server("app", "app9"), nullptr);
    EXPECT_TRUE(commands_.overrides().servers.empty());
    EXPECT_FALSE(std::filesystem::exists(process_.statePath()));
}

TEST_F(CommandsTest, DelRemovesFileAndRuntimeServersDifferently) {
    ASSERT_EQ(run("add server app/app9 127.0.0.1:8009"), "ok: server app/app9 added\n");
    EXPECT_EQ(run("del server app/app9"),
              "ok: server app/app9 removed; it gets no new work and goes once its connections "
              "finish\n");
    EXPECT_EQ(server("app", "app9"), nullptr);
    EXPECT_TRUE(commands_.overrides().servers.empty());

    run("set server app/app1 state drain");
    EXPECT_EQ(run("del server app/app1"),
              "ok: server app/app1 removed; it gets no new work and goes once its connections "
              "finish (it is in the config file: a reload or restart brings it back)\n");
    EXPECT_EQ(server("app", "app1"), nullptr);
    EXPECT_TRUE(commands_.overrides().servers.empty());  // its drain went with it
    EXPECT_EQ(commands_.overrides().deleted,
              (std::set<std::pair<std::string, std::string>>{{"app", "app1"}}));
    EXPECT_EQ(stateFileText(), "{\"version\":1,\"servers\":[]}\n");  // deletions last one run
    EXPECT_EQ(run("del server app/app1"), "error: no server app/app1\n");
    EXPECT_EQ(process_.publishes, 3);
}

TEST_F(CommandsTest, ReloadReportsTheDiffInTextAndJson) {
    process_.nextFile(kEdited);
    EXPECT_EQ(run("reload"),
              "ok: generation 2\n"
              "pools changed: api\n"
              "servers added: app/app3\n"
              "servers changed: api/api1\n");
    process_.nextFile(kEdited);
    const Json json = runJson("reload");
    EXPECT_EQ(json["ok"], true);
    EXPECT_EQ(json["generation"], 3);
    EXPECT_EQ(json["servers_added"], Json::array());
    EXPECT_EQ(json["notes"], Json::array());
    EXPECT_EQ(json.size(), 12u);  // ok, generation, nine lists, notes
    process_.nextFile(kEdited);
    EXPECT_EQ(run("reload"), "ok: generation 4\nno changes\n");
}

TEST_F(CommandsTest, ReloadReappliesOverridesAndEndsRuntimeDeletions) {
    run("set server app/app2 state drain");
    run("del server app/app1");
    run("add server app/app3 127.0.0.1:8093");
    process_.nextFile(kEdited);  // defines app/app3 itself: the file wins
    const std::string reply = run("reload");
    EXPECT_NE(reply.find("note: server app/app3 is now defined by the config file; its runtime "
                         "addition is dropped\n"),
              std::string::npos)
        << reply;
    ASSERT_NE(server("app", "app1"), nullptr);  // back from the file
    EXPECT_EQ(server("app", "app3")->config.address.text, "127.0.0.1:8003");
    EXPECT_EQ(server("app", "app2")->state->admin.load(), upstream::AdminState::kDrain);
    EXPECT_TRUE(commands_.overrides().deleted.empty());
    ASSERT_EQ(commands_.overrides().servers.size(), 1u);
    EXPECT_EQ(stateFile(), commands_.overrides());
}

TEST_F(CommandsTest, AFailedReloadLeavesTheOverridesExactlyAsTheyWere) {
    run("set server app/app2 weight 8");
    run("del server app/app1");
    run("add server app/app3 127.0.0.1:8093");
    const RuntimeState before = commands_.overrides();
    const std::string state_before = stateFileText();
    const auto snapshot_before = process_.snapshot();

    process_.nextFileInvalid({"test.toml:3:1: bad", "test.toml:9:2: worse"});
    EXPECT_EQ(run("reload"),
              "error: configuration not reloaded (2 errors)\ntest.toml:3:1: bad\n"
              "test.toml:9:2: worse\n");
    EXPECT_EQ(commands_.overrides(), before);

    // The file is valid and the overrides were re-applied to it, then publishing failed.
    process_.nextFile(kEdited);
    process_.failNextPublish("cannot bind 127.0.0.1:8080: Address already in use");
    EXPECT_EQ(run("reload"),
              "error: configuration not reloaded (1 errors)\n"
              "cannot bind 127.0.0.1:8080: Address already in use\n");
    EXPECT_EQ(commands_.overrides(), before);
    EXPECT_EQ(stateFileText(), state_before);
    EXPECT_EQ(process_.snapshot(), snapshot_before);
}

TEST_F(CommandsTest, StartLoadsTheStateFile) {
    RuntimeState saved;
    ServerOverride drained;
    drained.pool = "app";
    drained.name = "app1";
    drained.state = upstream::AdminState::kDrain;
    saved.servers.push_back(drained);
    ServerOverride shadowed;  // the file defines it: dropped, with a note
    shadowed.pool = "app";
    shadowed.name = "app2";
    shadowed.added = true;
    shadowed.address = "127.0.0.1:8999";
    saved.servers.push_back(shadowed);
    std::string error;
    ASSERT_TRUE(writeStateFile(process_.statePath(), saved, &error)) << error;
    Commands fresh(process_);
    const Applied applied = fresh.start(process_.fileConfig());
    EXPECT_EQ(applied.notes.size(), 1u);
    ASSERT_EQ(fresh.overrides().servers.size(), 1u);
    EXPECT_EQ(fresh.overrides().servers[0], drained);
    EXPECT_EQ(applied.config->findPool("app")->servers[1].address.text, "127.0.0.1:8002");
}

TEST_F(CommandsTest, AnUnreadableStateFileStartsWithoutRuntimeChanges) {
    std::ofstream(process_.statePath()) << "{ not json";
    Commands fresh(process_);
    const Applied applied = fresh.start(process_.fileConfig());
    EXPECT_TRUE(fresh.overrides().servers.empty());
    EXPECT_EQ(applied.config->findPool("app")->servers.size(), 2u);
}

}  // namespace
}  // namespace sluice::control
