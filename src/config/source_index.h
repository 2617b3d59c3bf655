#pragma once
// Line and column of a parsed TOML value, from an index of line starts built once per parsed
// text. toml11's value.location() counts the newlines from the start of the file and copies
// the value's whole line on every call: asked for each server of a large config, that made
// `sluice -t` quadratic in the file (73% of its instructions on 2,000 servers). Loader-internal.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <toml.hpp>
#include <vector>

namespace sluice::config {

// 1-based, as toml11 reports them; the column counts bytes.
struct Location {
    uint32_t line = 1;
    uint32_t column = 1;
};

class SourceIndex {
  public:
    // Where `value` starts; 1:1 for a value that has no position in a text (not from a file).
    // O(log lines) once the value's text is indexed (the first call for a text indexes it).
    Location locate(const toml::value& value);

    // The line `value` starts on, without its line break: a view into toml11's copy of the
    // text, valid while the parsed document lives. Empty when the value has no position.
    // *column is then where the value starts on it (0-based).
    std::string_view lineOf(const toml::value& value, size_t* column);

  private:
    struct Text {
        std::shared_ptr<const std::vector<char>> source;  // kept alive: its address is the key
        std::vector<size_t> line_starts;                  // offset of each line's first byte
    };
    // The value's text (indexed on first use) and its offset in it; nullptr without position.
    const Text* find(const toml::value& value, size_t* offset);
    // Index of the line holding `offset` (0-based).
    static size_t lineIndex(const Text& text, size_t offset);

    std::vector<Text> texts_;  // every value of a document shares one text: usually one entry
};

}  // namespace sluice::config
