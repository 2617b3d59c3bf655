#include "config/diagnostics.h"

#include <algorithm>
#include <regex>
#include <sstream>

namespace sluice::config {

Location locationOf(const toml::value& value) {
    const toml::source_location loc = value.location();
    return Location{std::max<uint32_t>(loc.line(), 1), std::max<uint32_t>(loc.column(), 1)};
}

void Diagnostics::error(Location at, std::string message) {
    entries_.push_back(Entry{at, std::move(message)});
}

void Diagnostics::error(const toml::value& value, std::string message) {
    bad_.insert(&value);
    error(locationOf(value), std::move(message));
}

std::vector<std::string> Diagnostics::format(const std::string& path) const {
    std::vector<Entry> sorted = entries_;
    std::stable_sort(sorted.begin(), sorted.end(), [](const Entry& a, const Entry& b) {
        return a.at.line != b.at.line ? a.at.line < b.at.line : a.at.column < b.at.column;
    });
    std::vector<std::string> out;
    out.reserve(sorted.size());
    for (const Entry& e : sorted) {
        out.push_back(path + ":" + std::to_string(e.at.line) + ":" + std::to_string(e.at.column) +
                      ": " + e.message);
    }
    return out;
}

void addSyntaxError(const toml::exception& e, Diagnostics* diags) {
    // toml11's what() looks like (see toml/source_location.hpp, format_underline):
    //   [error] toml::parse_key_value_pair: missing value after key-value separator '='
    //    --> sluice.toml
    //      |
    //    1 | a =
    //      |     ^--- expected value, but got nothing
    // possibly with more "N | line" / marker pairs; the last pair is the offending spot.
    // e.location() is not always that spot (it often points at the line start), so parse.
    std::istringstream in(e.what());
    std::string line;
    std::string headline;
    std::getline(in, headline);
    headline = std::regex_replace(headline, std::regex(R"(^\[error\]\s*)"), "");
    headline = std::regex_replace(headline, std::regex(R"(^toml::[A-Za-z_:]+:\s*)"), "");
    while (!headline.empty() && (headline.back() == '.' || headline.back() == ' ')) {
        headline.pop_back();
    }

    Location at = Location{std::max<uint32_t>(e.location().line(), 1),
                           std::max<uint32_t>(e.location().column(), 1)};
    std::string note;
    const std::regex source_line(R"(^ +(\d+) \| )");
    const std::regex marker_line(R"(^( + \| )( *)[\^~][\^~-]*\s?(.*)$)");
    uint32_t pending_line = 0;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, source_line)) {
            pending_line = static_cast<uint32_t>(std::stoul(m[1].str()));
        } else if (pending_line != 0 && std::regex_match(line, m, marker_line)) {
            at = Location{pending_line, static_cast<uint32_t>(m[2].length()) + 1};
            note = m[3].str();
            pending_line = 0;
        } else {
            pending_line = 0;
        }
    }
    while (!note.empty() && (note.back() == '.' || note.back() == ' ')) note.pop_back();
    std::string message = "syntax error: " + (headline.empty() ? "invalid TOML" : headline);
    if (!note.empty() && note != "here") message += " (" + note + ")";
    diags->error(at, message);
}

}  // namespace sluice::config
