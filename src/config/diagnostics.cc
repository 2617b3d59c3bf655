#include "config/diagnostics.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdint>
#include <string_view>

namespace sluice::config {

void Diagnostics::error(Location at, std::string message) {
    entries_.push_back(Entry{at, std::move(message)});
}

void Diagnostics::error(const toml::value& value, std::string message) {
    bad_.insert(&value);
    error(locate(value), std::move(message));
}

namespace {

// Messages quote keys and values from the file, and they are logged and sent over the control
// socket one per line: control characters (a newline, an escape sequence) are written \xHH.
std::string escapeControls(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte != 0x7f) {
            out += c;
            continue;
        }
        static constexpr char kHex[] = "0123456789ABCDEF";
        out += "\\x";
        out += kHex[byte >> 4];
        out += kHex[byte & 15];
    }
    return out;
}

}  // namespace

std::vector<std::string> Diagnostics::format(const std::string& path) const {
    std::vector<Entry> sorted = entries_;
    std::stable_sort(sorted.begin(), sorted.end(), [](const Entry& a, const Entry& b) {
        return a.at.line != b.at.line ? a.at.line < b.at.line : a.at.column < b.at.column;
    });
    std::vector<std::string> out;
    out.reserve(sorted.size());
    for (const Entry& e : sorted) {
        out.push_back(path + ":" + std::to_string(e.at.line) + ":" + std::to_string(e.at.column) +
                      ": " + escapeControls(e.message));
    }
    return out;
}

namespace {

// How many spaces start at text[from].
size_t countSpaces(std::string_view text, size_t from) {
    size_t end = from;
    while (end < text.size() && text[end] == ' ') ++end;
    return end - from;
}

// " 12 | source text": the line number, or 0.
uint32_t sourceLineNumber(std::string_view line) {
    size_t pos = countSpaces(line, 0);
    if (pos == 0) return 0;
    uint64_t number = 0;
    const size_t digits = pos;
    while (pos < line.size() && pos - digits < 10 && line[pos] >= '0' && line[pos] <= '9') {
        number = number * 10 + static_cast<uint64_t>(line[pos] - '0');
        ++pos;
    }
    if (pos == digits || line.substr(pos, 3) != " | " || number > UINT32_MAX) return 0;
    return static_cast<uint32_t>(number);
}

// "    |      ^--- note": true with the marker's column (1-based) and the note.
bool parseMarkerLine(std::string_view line, uint32_t* column, std::string* note) {
    size_t pos = countSpaces(line, 0);
    if (pos == 0 || line.substr(pos, 2) != "| ") return false;
    pos += 2;
    const size_t indent = countSpaces(line, pos);
    pos += indent;
    if (pos >= line.size() || (line[pos] != '^' && line[pos] != '~')) return false;
    while (pos < line.size() && (line[pos] == '^' || line[pos] == '~' || line[pos] == '-')) ++pos;
    if (pos < line.size() && std::isspace(static_cast<unsigned char>(line[pos]))) ++pos;
    *column = static_cast<uint32_t>(std::min<size_t>(indent + 1, UINT32_MAX));
    *note = std::string(line.substr(pos));
    return true;
}

void trimTrailingDotsAndSpaces(std::string* text) {
    while (!text->empty() && (text->back() == '.' || text->back() == ' ')) text->pop_back();
}

}  // namespace

void addSyntaxError(const toml::exception& e, std::string_view text, Diagnostics* diags) {
    // toml11's what() looks like (see toml/source_location.hpp, format_underline):
    //   [error] toml::parse_key_value_pair: missing value after key-value separator '='
    //    --> sluice.toml
    //      |
    //    1 | a =
    //      |     ^--- expected value, but got nothing
    // possibly with more "N | line" / marker pairs; the last pair is the offending spot.
    // e.location() is not always that spot (it often points at the line start), so parse.
    // By hand, not with std::regex: libstdc++'s regex recurses once per character matched, and
    // the marker line of an error far along a long line holds that many spaces.
    const std::string_view what = e.what();
    size_t line_start = 0;
    const auto nextLine = [&](std::string_view* line) {
        if (line_start >= what.size()) return false;
        size_t end = what.find('\n', line_start);
        if (end == std::string_view::npos) end = what.size();
        *line = what.substr(line_start, end - line_start);
        line_start = end + 1;
        return true;
    };

    std::string_view first;
    nextLine(&first);
    if (first.substr(0, 7) == "[error]") first.remove_prefix(7);
    while (!first.empty() && std::isspace(static_cast<unsigned char>(first.front()))) {
        first.remove_prefix(1);
    }
    if (first.substr(0, 6) == "toml::") {  // "toml::parse_key_value_pair: "
        size_t end = 6;
        while (end < first.size() && (std::isalnum(static_cast<unsigned char>(first[end])) ||
                                      first[end] == '_' || first[end] == ':')) {
            ++end;
        }
        if (end > 6 && first[end - 1] == ':') {
            first.remove_prefix(end);
            while (!first.empty() && first.front() == ' ') first.remove_prefix(1);
        }
    }
    std::string headline(first);
    trimTrailingDotsAndSpaces(&headline);

    Location at = Location{std::max<uint32_t>(e.location().line(), 1),
                           std::max<uint32_t>(e.location().column(), 1)};
    std::string note;
    uint32_t pending_line = 0;
    std::string_view line;
    while (nextLine(&line)) {
        uint32_t column = 0;
        std::string marker_note;
        if (const uint32_t number = sourceLineNumber(line); number != 0) {
            pending_line = number;
        } else if (pending_line != 0 && parseMarkerLine(line, &column, &marker_note)) {
            at = Location{pending_line, column};
            note = std::move(marker_note);
            pending_line = 0;
        } else {
            pending_line = 0;
        }
    }
    const uint32_t last_line =
        1 + static_cast<uint32_t>(std::count(text.begin(), text.end(), '\n'));
    if (at.line > last_line) {
        const size_t last_line_start =
            text.rfind('\n') == std::string_view::npos ? 0 : text.rfind('\n') + 1;
        at = Location{last_line, static_cast<uint32_t>(text.size() - last_line_start + 1)};
    }
    trimTrailingDotsAndSpaces(&note);
    std::string message = "syntax error: " + (headline.empty() ? "invalid TOML" : headline);
    if (!note.empty() && note != "here") message += " (" + note + ")";
    diags->error(at, message);
}

}  // namespace sluice::config
