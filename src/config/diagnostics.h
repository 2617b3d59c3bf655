#pragma once
// Collects every config problem with its source position, then formats them as
// "FILE:LINE:COL: message", sorted by line then column. Loader-internal (includes toml.hpp).

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <toml.hpp>
#include <vector>

#include "config/source_index.h"

namespace sluice::config {

class Diagnostics {
  public:
    // Where `value` is in the parsed text (see SourceIndex: cheap, for every value).
    Location locate(const toml::value& value) { return index_.locate(value); }
    // The line `value` starts on and its column there (0-based): SourceIndex::lineOf.
    std::string_view lineOf(const toml::value& value, size_t* column) {
        return index_.lineOf(value, column);
    }

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
    SourceIndex index_;
};

// A toml11 parse failure of `text` as one diagnostic, at the position toml11 underlines in its
// (multi-line) what(), with a one-line message. A position past the end of `text` (toml11
// parses a file that lacks a final newline with one added) is reported at its end.
void addSyntaxError(const toml::exception& e, std::string_view text, Diagnostics* diags);

}  // namespace sluice::config
