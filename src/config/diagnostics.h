#pragma once
// Collects every config problem with its source position, then formats them as
// "FILE:LINE:COL: message", sorted by line then column. Loader-internal (includes toml.hpp).

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <toml.hpp>
#include <vector>

namespace sluice::config {

// 1-based, as toml11 reports them.
struct Location {
    uint32_t line = 1;
    uint32_t column = 1;
};

Location locationOf(const toml::value& value);

class Diagnostics {
  public:
    void error(Location at, std::string message);
    // Also remembers `value` as invalid, so later checks (the feature gate) skip it.
    void error(const toml::value& value, std::string message);
    bool isBad(const toml::value& value) const { return bad_.count(&value) != 0; }
    bool empty() const { return entries_.empty(); }
    // Sorted by position; equal positions keep the order they were reported in.
    std::vector<std::string> format(const std::string& path) const;

  private:
    struct Entry {
        Location at;
        std::string message;
    };
    std::vector<Entry> entries_;
    std::set<const toml::value*> bad_;
};

// A toml11 parse failure of `text` as one diagnostic, at the position toml11 underlines in its
// (multi-line) what(), with a one-line message. A position past the end of `text` (toml11
// parses a file that lacks a final newline with one added) is reported at its end.
void addSyntaxError(const toml::exception& e, std::string_view text, Diagnostics* diags);

}  // namespace sluice::config
