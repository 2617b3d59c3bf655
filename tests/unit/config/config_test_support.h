#pragma once
// Helpers for the config loader tests: load TOML text, get the errors or the Config.

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "config/config_loader.h"

namespace sluice::config::testing {

// The source tree (conf/ holds the reference configs). From SLUICE_TESTS_DIR, not __FILE__: a
// build with -ffile-prefix-map (the package build) makes __FILE__ relative.
inline std::string sourceRoot() { return std::string(SLUICE_TESTS_DIR) + "/.."; }

// A small valid config; tests append to it or replace parts of it.
inline const std::string kListenerAndPool = R"([[listener]]
name = "web"
bind = "127.0.0.1:8080"
pool = "app"

[[pool]]
name = "app"

  [[pool.server]]
  address = "127.0.0.1:8001"
)";

// The errors for `text` loaded as "t.toml" (empty when it loaded).
inline std::vector<std::string> errorsOf(const std::string& text) {
    auto result = loadConfigFromString(text, "t.toml");
    if (auto* errors = std::get_if<ConfigErrors>(&result)) return errors->messages;
    return {};
}

// The Config for `text`; records a test failure listing the errors when it does not load.
inline Config loadOk(const std::string& text) {
    auto result = loadConfigFromString(text, "t.toml");
    if (auto* errors = std::get_if<ConfigErrors>(&result)) {
        std::string all;
        for (const auto& m : errors->messages) all += m + "\n";
        ADD_FAILURE() << "config did not load:\n" << all;
        return Config{};
    }
    return std::get<Config>(std::move(result));
}

// True when some error contains `needle`.
inline bool hasErrorContaining(const std::vector<std::string>& errors, const std::string& needle) {
    for (const auto& e : errors) {
        if (e.find(needle) != std::string::npos) return true;
    }
    return false;
}

}  // namespace sluice::config::testing
