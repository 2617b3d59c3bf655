#include "control/commands.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <utility>

#include "base/json.h"
#include "base/log.h"
#include "config/units.h"
#include "control/reports.h"
#include "control/state_file.h"

namespace sluice::control {
namespace {

constexpr const char* kHelp =
    "commands:\n"
    "  help\n"
    "  status\n"
    "  reload\n"
    "  show pools\n"
    "  show servers [POOL]\n"
    "  show stats\n"
    "  set server POOL/NAME state ready|drain|maint\n"
    "  set server POOL/NAME weight N\n"
    "  clear server POOL/NAME\n"
    "  add server POOL/NAME ADDRESS [weight N] [backup]\n"
    "  del server POOL/NAME\n"
    "  wait server POOL/NAME idle [TIMEOUT]\n"
    "  upgrade\n"
    "append --json for JSON output\n";

constexpr const char* kAddUsage = "usage: add server POOL/NAME ADDRESS [weight N] [backup]";

bool splitPoolServer(const std::string& arg, std::string* pool, std::string* name) {
    size_t slash = arg.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == arg.size()) return false;
    *pool = arg.substr(0, slash);
    *name = arg.substr(slash + 1);
    return true;
}

bool validName(const std::string& name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) {
            return false;
        }
    }
    return true;
}

// 1..1000, as strtoul reads it.
std::optional<unsigned> parseWeight(const std::string& text) {
    char* end = nullptr;
    const unsigned long w = std::strtoul(text.c_str(), &end, 10);
    if (*end || w < 1 || w > 1000) return std::nullopt;
    return static_cast<unsigned>(w);
}

// "error: WHAT\nMORE\n..." as {"error":"WHAT","errors":["MORE",...]} (control.md: with
// --json, errors are JSON too).
std::string jsonError(const std::string& text) {
    std::vector<std::string> lines;
    for (size_t start = 0; start < text.size();) {
        const size_t end = std::min(text.find('\n', start), text.size());
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    Json reply = {{"error", lines[0].substr(std::string_view("error: ").size())}};
    if (lines.size() > 1)
        reply["errors"] = std::vector<std::string>(lines.begin() + 1, lines.end());
    return toJsonText(reply) + "\n";
}

ServerOverride& overrideFor(RuntimeState& state, const std::string& pool, const std::string& name) {
    if (ServerOverride* o = findOverride(state, pool, name)) return *o;
    ServerOverride& fresh = state.servers.emplace_back();
    fresh.pool = pool;
    fresh.name = name;
    return fresh;
}

}  // namespace

Commands::Commands(Process& process) : process_(process) {}

Applied Commands::start(const config::Config& file) {
    const std::string& path = file.global.state_file;
    std::string error;
    RuntimeState loaded;
    if (!readStateFile(path, &loaded, &error)) {
        LOG_ERROR("state_file: %s; starting without runtime changes", error.c_str());
    } else if (!loaded.servers.empty()) {
        LOG_INFO("state_file %s: %zu runtime change(s) re-applied", path.c_str(),
                 loaded.servers.size());
    }
    Applied applied = apply(file, loaded);
    overrides_ = applied.overrides;
    return applied;
}

namespace {

bool changesSomething(const std::vector<std::string>& args) {
    const std::string& cmd = args[0];
    return cmd == "reload" || cmd == "set" || cmd == "clear" || cmd == "add" || cmd == "del" ||
           cmd == "upgrade";
}

std::string joined(const std::vector<std::string>& args) {
    std::string line;
    for (const auto& arg : args) line += (line.empty() ? "" : " ") + arg;
    return line;
}

}  // namespace

void Commands::audit(const std::vector<std::string>& args, const std::string& reply) const {
    std::string outcome = reply.substr(0, reply.find('\n'));
    if (reply.starts_with("{")) {  // JSON: the error text, or ok
        const Json parsed = Json::parse(reply, nullptr, false);
        outcome = parsed.is_object() && parsed.contains("error")
                      ? "error: " + parsed["error"].get<std::string>()
                      : "ok";
    }
    LOG_INFO("control: \"%s\" from uid %lld (pid %lld): %s", joined(args).c_str(),
             static_cast<long long>(caller_.uid), static_cast<long long>(caller_.pid),
             outcome.c_str());
}

std::string Commands::execute(const std::vector<std::string>& args, bool json) {
    save_error_.clear();
    std::string reply = run(args, json);
    if (!save_error_.empty() && !reply.starts_with("error: ") && !reply.starts_with("{")) {
        // Done in the running process, but not persisted: not an `ok` (control.md).
        std::string done = reply.substr(0, reply.find('\n'));
        if (done.starts_with("ok: ")) done = done.substr(4);
        reply = "error: " + done +
                " (in the running process), but the state file could not be "
                "written: " +
                save_error_ + "; the change is lost at the next restart\n";
    }
    if (json && reply.starts_with("error: ")) reply = jsonError(reply);
    if (changesSomething(args)) audit(args, reply);
    caller_ = {};
    return reply;
}

bool Commands::executeLater(const std::vector<std::string>& args, bool json, Reply reply) {
    if (args.size() >= 2 && args[0] == "wait" && args[1] == "server") {
        return waitIdle(args, json, std::move(reply));
    }
    if (args.size() == 1 && args[0] == "reload") {
        // Answered once the file, read and checked off the main thread, is live (or not).
        const Caller caller = caller_;
        reloadLater([this, args, caller, reply = std::move(reply), json](const ReloadOutcome& o) {
            std::string text = reloadReply(o, json);
            if (json && text.starts_with("error: ")) text = jsonError(text);
            caller_ = caller;
            audit(args, text);
            caller_ = {};
            reply(text);
        });
        return true;
    }
    if (args.size() != 1 || args[0] != "upgrade") return false;
    const Caller caller = caller_;
    process_.upgrade(
        [this, args, caller, reply = std::move(reply), json](const UpgradeOutcome& outcome) {
            const std::string text = upgradeReply(outcome, json);
            caller_ = caller;
            audit(args, text);
            caller_ = {};
            reply(text);
        });
    return true;
}

bool Commands::waitIdle(const std::vector<std::string>& args, bool json, Reply reply) {
    finished_waits_.clear();
    const auto answer = [json, &reply](const std::string& text) {
        reply(json && text.starts_with("error: ") ? jsonError(text) : text);
        return true;
    };
    std::string pool, name;
    if (args.size() < 4 || args.size() > 5 || args[3] != "idle") {
        return answer("error: usage: wait server POOL/NAME idle [TIMEOUT]");
    }
    if (!splitPoolServer(args[2], &pool, &name)) {
        return answer("error: expected POOL/NAME, got \"" + args[2] + "\"");
    }
    uint64_t timeout_ms = kDefaultWaitMs;
    if (args.size() == 5) {
        std::string error;
        const auto parsed = config::parseDuration(args[4], &error);
        if (!parsed) return answer("error: TIMEOUT \"" + args[4] + "\": " + error);
        timeout_ms = static_cast<uint64_t>(parsed->count());
    }
    if (process_.loop() == nullptr) return answer("error: wait is not supported here");
    const auto snapshot = process_.snapshot();
    const int pool_index = snapshot->poolIndex(pool);
    if (pool_index < 0) return answer("error: no pool named \"" + pool + "\"");
    std::shared_ptr<upstream::ServerState> state;
    for (const auto& s : snapshot->pools[static_cast<size_t>(pool_index)]->servers) {
        if (s.config.name == name) state = s.state;
    }
    if (!state) return answer("error: no server " + pool + "/" + name);

    const std::string label = pool + "/" + name;
    const uint64_t id = next_wait_++;
    const uint64_t deadline = process_.nowMs() + timeout_ms;
    const auto check = [this, id, state, label, deadline, timeout_ms, json, reply]() {
        finished_waits_.clear();
        const uint32_t active = state->active.load(std::memory_order_relaxed);
        std::string text;
        if (active == 0) {
            text = json ? toJsonText(Json{{"ok", true}, {"server", label}, {"idle", true}}) + "\n"
                        : "ok: server " + label + " is idle\n";
        } else if (process_.nowMs() >= deadline) {
            text = "error: timeout: server " + label + " still has " + std::to_string(active) +
                   " active after " + std::to_string(timeout_ms) + "ms\n";
            if (json) text = jsonError(text);
        } else {
            return false;
        }
        if (auto it = waits_.find(id); it != waits_.end()) {
            it->second.timer->stop();
            finished_waits_.push_back(std::move(it->second.timer));
            waits_.erase(it);
        }
        reply(text);
        return true;
    };
    if (check()) return true;
    auto timer = std::make_unique<loop::Timer>(process_.loop(), [check] { check(); });
    timer->start(kIdlePollMs, kIdlePollMs);
    waits_[id] = Wait{std::move(timer), reply, json};
    return true;
}

void Commands::cancelWaits(const std::string& why) {
    auto waits = std::move(waits_);
    waits_.clear();
    for (auto& [id, wait] : waits) {
        const std::string text = "error: " + why + "\n";
        wait.reply(wait.json ? jsonError(text) : text);
    }
    finished_waits_.clear();
}

std::string Commands::upgradeReply(const UpgradeOutcome& outcome, bool json) {
    if (!outcome.ok) {
        const std::string text = "error: upgrade failed: " + outcome.error + "\n";
        return json ? jsonError(text) : text;
    }
    if (json) {
        return toJsonText(Json{{"ok", true},
                               {"old_pid", outcome.old_pid},
                               {"new_pid", outcome.new_pid},
                               {"version", outcome.version}}) +
               "\n";
    }
    return "ok: upgraded, pid " + std::to_string(outcome.old_pid) + " -> " +
           std::to_string(outcome.new_pid) + " (version " + outcome.version + ")\n";
}

std::string Commands::run(const std::vector<std::string>& args, bool json) {
    const std::string& cmd = args[0];
    if (cmd == "help") return kHelp;
    if (cmd == "status") return statusReply(process_, json);
    if (cmd == "reload") return reloadReply(json);
    if (cmd == "show" && args.size() >= 2) {
        if (args[1] == "pools" && args.size() == 2) return showPoolsReply(process_, json);
        if (args[1] == "servers" && args.size() <= 3) {
            return showServersReply(process_, overrides_, args.size() == 3 ? args[2] : "", json);
        }
        if (args[1] == "stats" && args.size() == 2) return showStatsReply(process_, json);
    }
    if ((cmd == "set" || cmd == "clear" || cmd == "add" || cmd == "del") && args.size() >= 3 &&
        args[1] == "server") {
        return serverCommand(args);
    }
    return errorReply("unknown command \"" + cmd + "\" (or wrong arguments); try \"help\"");
}

Process::Derive Commands::reloadDerive(const std::shared_ptr<RuntimeState>& next) {
    return [this, next](const config::Config& file) {
        // A reload re-reads what exists from the file: runtime deletions of file servers end.
        RuntimeState base = overrides_;
        base.deleted.clear();
        Applied applied = apply(file, base);
        *next = applied.overrides;
        return applied;
    };
}

void Commands::keepReloaded(RuntimeState next, ReloadOutcome* outcome) {
    if (!outcome->ok) return;  // overrides_ untouched
    const bool changed = next.servers != overrides_.servers;
    overrides_ = std::move(next);
    if (changed && !save()) outcome->problems.push_back("state_file: " + save_error_);
    save_error_.clear();  // reported as a problem of the reload
}

ReloadOutcome Commands::reload() {
    auto next = std::make_shared<RuntimeState>();
    ReloadOutcome outcome = process_.reload(reloadDerive(next));
    keepReloaded(std::move(*next), &outcome);
    return outcome;
}

void Commands::reloadLater(std::function<void(const ReloadOutcome&)> done) {
    auto next = std::make_shared<RuntimeState>();
    process_.reloadLater(reloadDerive(next),
                         [this, next, done = std::move(done)](ReloadOutcome outcome) {
                             keepReloaded(std::move(*next), &outcome);
                             done(outcome);
                         });
}

std::string Commands::reloadReply(bool json) { return reloadReply(reload(), json); }

std::string Commands::reloadReply(const ReloadOutcome& outcome, bool json) {
    if (!outcome.ok) {
        std::string text = "error: configuration not reloaded (" +
                           std::to_string(outcome.errors.size()) + " errors)\n";
        for (const auto& e : outcome.errors) text += e + "\n";
        return text;
    }
    if (!outcome.problems.empty()) {
        std::string text = "error: configuration reloaded (generation " +
                           std::to_string(outcome.generation) + "), but " +
                           std::to_string(outcome.problems.size()) + " part(s) failed\n";
        for (const auto& p : outcome.problems) text += p + "\n";
        return text;
    }
    const auto& d = outcome.diff;
    const std::pair<const char*, const std::vector<std::string>*> parts[] = {
        {"listeners added", &d.listeners_added},     {"listeners removed", &d.listeners_removed},
        {"listeners changed", &d.listeners_changed}, {"pools added", &d.pools_added},
        {"pools removed", &d.pools_removed},         {"pools changed", &d.pools_changed},
        {"servers added", &d.servers_added},         {"servers removed", &d.servers_removed},
        {"servers changed", &d.servers_changed}};
    if (json) {
        Json reply = {{"ok", true}, {"generation", outcome.generation}};
        for (const auto& [label, list] : parts) {
            std::string key = label;
            key.replace(key.find(' '), 1, "_");
            reply[key] = *list;
        }
        reply["notes"] = outcome.notes;
        return toJsonText(reply) + "\n";
    }
    std::string text = "ok: generation " + std::to_string(outcome.generation) + "\n";
    if (d.empty()) text += "no changes\n";
    for (const auto& [label, list] : parts) {
        if (list->empty()) continue;
        text += std::string(label) + ":";
        for (const auto& item : *list) text += " " + item;
        text += "\n";
    }
    for (const auto& note : outcome.notes) text += "note: " + note + "\n";
    return text;
}

std::string Commands::serverCommand(const std::vector<std::string>& args) {
    const std::string& verb = args[0];
    std::string pool, name;
    if (!splitPoolServer(args[2], &pool, &name)) {
        return errorReply("expected POOL/NAME, got \"" + args[2] + "\"");
    }
    const auto snapshot = process_.snapshot();
    const int pool_index = snapshot->poolIndex(pool);
    if (pool_index < 0) return errorReply("no pool named \"" + pool + "\"");
    const upstream::Pool& p = *snapshot->pools[static_cast<size_t>(pool_index)];
    const bool exists =
        std::any_of(p.servers.begin(), p.servers.end(),
                    [&](const upstream::Server& s) { return s.config.name == name; });
    if (verb == "add") {
        if (exists) return errorReply("server " + pool + "/" + name + " already exists");
        return addServer(args, pool, name);
    }
    if (!exists) return errorReply("no server " + pool + "/" + name);
    if (verb == "del") return deleteServer(pool, name);
    if (verb == "clear") return clearServer(pool, name);
    return setServer(args, pool, name);
}

std::string Commands::addServer(const std::vector<std::string>& args, const std::string& pool,
                                const std::string& name) {
    if (!validName(name)) return errorReply("invalid server name \"" + name + "\"");
    if (args.size() < 4) return errorReply(kAddUsage);
    ServerOverride o;
    o.pool = pool;
    o.name = name;
    o.added = true;
    o.address = args[3];
    for (size_t i = 4; i < args.size(); ++i) {
        if (args[i] == "backup") {
            o.backup = true;
        } else if (args[i] == "weight" && i + 1 < args.size()) {
            const auto weight = parseWeight(args[++i]);
            if (!weight) return errorReply("weight must be 1..1000");
            o.weight = *weight;
        } else {
            return errorReply("unexpected \"" + args[i] + "\"; " + kAddUsage);
        }
    }
    config::Address address;
    std::string error;
    if (!resolveAddress(o.address, &address, &error)) {
        return errorReply("address \"" + o.address + "\": " + error);
    }
    const auto snapshot = process_.snapshot();
    const bool checked = snapshot->pools[static_cast<size_t>(snapshot->poolIndex(pool))]
                             ->config.health_check.has_value();
    RuntimeState next = overrides_;
    next.deleted.erase({pool, name});
    next.servers.push_back(std::move(o));
    if (!republish(next, &error)) return errorReply(error);
    return "ok: server " + pool + "/" + name + " added" +
           (checked ? "; it joins after its first passing health check\n" : "\n");
}

std::string Commands::deleteServer(const std::string& pool, const std::string& name) {
    const ServerOverride* o = findOverride(overrides_, pool, name);
    const bool runtime_added = o && o->added;
    RuntimeState next = overrides_;
    std::erase_if(next.servers,
                  [&](const ServerOverride& x) { return x.pool == pool && x.name == name; });
    if (!runtime_added) next.deleted.insert({pool, name});
    std::string error;
    if (!republish(next, &error)) return errorReply(error);
    return "ok: server " + pool + "/" + name +
           " removed; it gets no new work and goes once its connections finish" +
           (runtime_added ? "\n"
                          : " (it is in the config file: a reload or restart brings it back)\n");
}

std::string Commands::clearServer(const std::string& pool, const std::string& name) {
    if (ServerOverride* o = findOverride(overrides_, pool, name)) {
        o->state.reset();
        if (o->added) {
            o->weight.reset();
        } else {
            std::erase_if(overrides_.servers, [&](const ServerOverride& x) {
                return x.pool == pool && x.name == name;
            });
        }
    }
    commitInPlace();
    return "ok: server " + pool + "/" + name + " back to its configured state and weight\n";
}

std::string Commands::setServer(const std::vector<std::string>& args, const std::string& pool,
                                const std::string& name) {
    if (args.size() != 5) return errorReply("usage: set server POOL/NAME state ready|drain|maint");
    if (args[3] == "state") {
        const auto state = parseName<upstream::AdminState>(args[4]);
        if (!state) return errorReply("state must be ready, drain or maint");
        overrideFor(overrides_, pool, name).state = *state;
    } else if (args[3] == "weight") {
        const auto weight = parseWeight(args[4]);
        if (!weight) return errorReply("weight must be 1..1000");
        overrideFor(overrides_, pool, name).weight = *weight;
    } else {
        return errorReply("usage: set server POOL/NAME state ready|drain|maint | weight N");
    }
    commitInPlace();
    return "ok: server " + pool + "/" + name + " " + args[3] + " " + args[4] + "\n";
}

bool Commands::republish(const RuntimeState& next, std::string* error) {
    Applied applied = apply(process_.fileConfig(), next);
    if (!process_.publish(applied.config, applied.overrides, error)) return false;
    overrides_ = std::move(applied.overrides);
    save();
    return true;
}

void Commands::commitInPlace() {
    applyToServers(*process_.snapshot(), overrides_);
    save();
}

bool Commands::save() {
    std::string error;
    const std::string& path = process_.fileConfig().global.state_file;
    if (writeStateFile(path, overrides_, &error)) return true;
    LOG_ERROR("state_file: %s", error.c_str());
    save_error_ = error;
    return false;
}

}  // namespace sluice::control
