#pragma once
// Typed, validating access to one TOML table of the config. Every read registers its key as
// known; reportUnknownKeys() then flags the rest with a did-you-mean hint. Problems go to the
// shared Diagnostics (never thrown), so one pass reports everything. Absent keys leave the
// output untouched: the caller's struct already holds the default.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <toml.hpp>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/diagnostics.h"

namespace sluice::config {

class TableReader {
  public:
    // `table` must be a table. `scope` prefixes messages ("global", "pool.server");
    // `header` is how the table is written in the file ("[global]", "[[pool.server]]").
    // The root table has both empty.
    TableReader(const toml::value& table, std::string scope, std::string header,
                Diagnostics* diags);

    // The value at `key`, or nullptr when absent.
    const toml::value* find(std::string_view key);

    // Each returns true when the key is present and valid (and *out was set).
    bool readString(std::string_view key, std::string* out);
    bool readBool(std::string_view key, bool* out);
    bool readDuration(std::string_view key, Duration* out, Duration min);
    bool readSize(std::string_view key, uint64_t* out, uint64_t min, uint64_t max);
    template <typename T>
    bool readInteger(std::string_view key, T* out, int64_t min, int64_t max) {
        int64_t value = 0;
        if (!readInt64(key, &value, min, max)) return false;
        *out = static_cast<T>(value);
        return true;
    }
    // One of the names in E's name table (base/enum_names.h), listed in table order.
    template <typename E>
    bool readEnum(std::string_view key, E* out) {
        std::vector<std::string> names;
        for (const auto& entry : namesOf(E{})) names.emplace_back(entry.name);
        const int index = readChoice(key, names);
        if (index < 0) return false;
        *out = namesOf(E{})[index].value;
        return true;
    }
    // For an enum without a name table; prefer giving it one.
    template <typename E>
    bool readEnum(std::string_view key, E* out,
                  std::initializer_list<std::pair<const char*, E>> choices) {
        std::vector<std::string> names;
        for (const auto& choice : choices) names.emplace_back(choice.first);
        const int index = readChoice(key, names);
        if (index < 0) return false;
        *out = (choices.begin() + index)->second;
        return true;
    }
    // A sub-table ([scope.key] or key = { ... }); nullptr when absent or not a table.
    const toml::value* findTable(std::string_view key);
    // An array of tables ([[scope.key]] or key = [{...}]); nullptr when absent or wrong type.
    const toml::value* findArrayOfTables(std::string_view key);
    // A string value, type-checked; nullptr when absent or not a string.
    const toml::value* findString(std::string_view key);

    // Reports `message` about the value at `key` as "scope.key: message".
    void error(const toml::value& value, std::string_view key, const std::string& message);
    // Reports "HEADER is missing required key "key"" at the table's header.
    void missing(std::string_view key);
    // Reports "message" at the table's header.
    void tableError(const std::string& message);
    void reportUnknownKeys();
    // "scope.key" (just "key" at the root).
    std::string path(std::string_view key) const;

    const toml::value& table() const { return table_; }
    Location location() const { return diags_->locate(table_); }
    Diagnostics& diags() { return *diags_; }

  private:
    bool readInt64(std::string_view key, int64_t* out, int64_t min, int64_t max);
    int readChoice(std::string_view key, const std::vector<std::string>& names);
    void typeError(const toml::value& value, std::string_view key, const std::string& expected);

    const toml::value& table_;
    std::string scope_;
    std::string header_;
    Diagnostics* diags_;
    std::vector<std::string> known_;
};

// "a string", "an integer", ... for messages.
std::string describeType(const toml::value& value);

}  // namespace sluice::config
