#pragma once
// A control::Process for command tests: a real snapshot built from TOML text, no workers, no
// sockets. publish() and reload() build new generations the way the supervisor does (snapshot,
// then the overrides stored in its servers); tests script what the next reload finds and
// whether publishing fails.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "config/config_diff.h"
#include "config/config_loader.h"
#include "control/process.h"

namespace sluice::control::testing {

// A config from `toml` (records a failure when it does not load).
inline config::Config loadOk(const std::string& toml) {
    auto loaded = config::loadConfigFromString(toml, "test.toml");
    if (auto* errors = std::get_if<config::ConfigErrors>(&loaded)) {
        std::string all;
        for (const auto& m : errors->messages) all += m + "\n";
        ADD_FAILURE() << all;
        return {};
    }
    return std::get<config::Config>(std::move(loaded));
}

// The smallest served file: one listener, pool "app" with server "app1". STATE_FILE as below.
inline const std::string kOneServerFile = R"([global]
state_file = "STATE_FILE"
[[listener]]
name = "web"
bind = "127.0.0.1:8080"
pool = "app"
[[pool]]
name = "app"
  [[pool.server]]
  name = "app1"
  address = "127.0.0.1:8001"
)";

class FakeProcess : public Process {
  public:
    // `toml` may use STATE_FILE, replaced by a file in a fresh temporary directory.
    explicit FakeProcess(const std::string& toml) {
        char tmpl[] = "/tmp/sluice-commands-test-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        file_ = std::make_shared<config::Config>(loadOk(withStateFile(toml)));
        snapshot_ = routing::buildSnapshot(file_, 1, registry_);
    }
    ~FakeProcess() override { std::filesystem::remove_all(dir_); }

    std::string withStateFile(std::string toml) const {
        const std::string mark = "STATE_FILE";
        for (size_t at; (at = toml.find(mark)) != std::string::npos;) {
            toml.replace(at, mark.size(), statePath());
        }
        return toml;
    }
    std::string statePath() const { return dir_ + "/state.json"; }

    // What the next reload reads: a config (TOML text) or errors.
    void nextFile(const std::string& toml) { next_file_ = loadOk(withStateFile(toml)); }
    void nextFileInvalid(std::vector<std::string> errors) { next_file_ = std::move(errors); }
    // The next publish fails with `error` (as an unbindable new listener would).
    void failNextPublish(std::string error) { publish_error_ = std::move(error); }

    ProcessStatus status() const override { return status_; }
    std::shared_ptr<const routing::Snapshot> snapshot() const override { return snapshot_; }
    uint64_t nowMs() const override { return now_ms_; }
    std::optional<CheckReport> lastCheck(const std::string& pool,
                                         const std::string& server) const override {
        for (const auto& [p, s, report] : checks_) {
            if (p == pool && s == server) return report;
        }
        return std::nullopt;
    }
    const config::Config& fileConfig() const override { return *file_; }

    bool publish(std::shared_ptr<const config::Config> running, const RuntimeState& overrides,
                 std::string* error) override {
        ++publishes;
        if (publish_error_) {
            *error = *publish_error_;
            publish_error_.reset();
            return false;
        }
        snapshot_ =
            routing::buildSnapshot(std::move(running), snapshot_->generation + 1, registry_);
        applyToServers(*snapshot_, overrides);
        status_.generation = snapshot_->generation;
        return true;
    }

    ReloadOutcome reload(const Derive& derive) override {
        ReloadOutcome outcome;
        if (auto* errors = std::get_if<std::vector<std::string>>(&next_file_)) {
            outcome.errors = *errors;
            return outcome;
        }
        auto file = std::make_shared<config::Config>(std::get<config::Config>(next_file_));
        Applied next = derive(*file);
        outcome.notes = next.notes;
        outcome.diff = config::diffConfigs(*snapshot_->config, *next.config);
        std::string error;
        if (!publish(next.config, next.overrides, &error)) {
            outcome.errors.push_back(error);
            return outcome;
        }
        file_ = std::move(file);
        outcome.ok = true;
        outcome.generation = snapshot_->generation;
        return outcome;
    }

    ProcessStatus status_;
    uint64_t now_ms_ = 1000;
    std::vector<std::tuple<std::string, std::string, CheckReport>> checks_;
    int publishes = 0;

  private:
    std::string dir_;
    std::shared_ptr<const config::Config> file_;
    routing::ServerStateRegistry registry_;
    std::shared_ptr<const routing::Snapshot> snapshot_;
    std::variant<config::Config, std::vector<std::string>> next_file_ =
        std::vector<std::string>{"no next file scripted"};
    std::optional<std::string> publish_error_;
};

}  // namespace sluice::control::testing
