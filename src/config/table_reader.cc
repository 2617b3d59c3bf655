#include "config/table_reader.h"

#include <algorithm>

#include "config/units.h"

namespace sluice::config {
namespace {

bool isKeyChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// Where `key` is written: toml11 keeps positions of values only, so look for the key text on
// the value's line: the last match before the value, else (a [table] header, whose position is
// the header's start) the first match after it. Both searches start at the value and stop at
// the first match, which is next to it: an error costs no more than its neighbourhood of a
// long line.
Location keyLocation(std::string_view key, const toml::value& value, Diagnostics& diags) {
    Location at = diags.locate(value);
    size_t value_start = 0;
    const std::string_view line = diags.lineOf(value, &value_start);
    if (key.empty() || key.size() > line.size()) return at;
    value_start = std::min(value_start, line.size());
    const auto isWord = [&](size_t hit) {
        const bool starts = hit == 0 || !isKeyChar(line[hit - 1]);
        const bool ends = hit + key.size() == line.size() || !isKeyChar(line[hit + key.size()]);
        return starts && ends;
    };
    size_t pos = std::string_view::npos;
    if (value_start >= key.size()) {
        for (size_t hit = line.rfind(key, value_start - key.size()); hit != std::string_view::npos;
             hit = hit == 0 ? std::string_view::npos : line.rfind(key, hit - 1)) {
            if (isWord(hit)) {
                pos = hit;
                break;
            }
        }
    }
    if (pos == std::string_view::npos) {
        const size_t from = value_start >= key.size() ? value_start - key.size() + 1 : 0;
        for (size_t hit = line.find(key, from); hit != std::string_view::npos;
             hit = line.find(key, hit + 1)) {
            if (isWord(hit)) {
                pos = hit;
                break;
            }
        }
    }
    if (pos != std::string_view::npos) at.column = static_cast<uint32_t>(pos) + 1;
    return at;
}

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

std::string describeType(const toml::value& value) {
    switch (value.type()) {
        case toml::value_t::boolean:
            return "a boolean";
        case toml::value_t::integer:
            return "an integer";
        case toml::value_t::floating:
            return "a float";
        case toml::value_t::string:
            return "a string";
        case toml::value_t::array:
            return "an array";
        case toml::value_t::table:
            return "a table";
        case toml::value_t::empty:
            return "nothing";
        default:
            return "a date/time";
    }
}

TableReader::TableReader(const toml::value& table, std::string scope, std::string header,
                         Diagnostics* diags)
    : table_(table), scope_(std::move(scope)), header_(std::move(header)), diags_(diags) {}

const toml::value* TableReader::find(std::string_view key) {
    known_.emplace_back(key);
    const auto& entries = table_.as_table();
    const auto it = entries.find(std::string(key));
    return it == entries.end() ? nullptr : &it->second;
}

void TableReader::error(const toml::value& value, std::string_view key,
                        const std::string& message) {
    diags_->error(value, path(key) + ": " + message);
}

std::string TableReader::path(std::string_view key) const {
    return scope_.empty() ? std::string(key) : scope_ + "." + std::string(key);
}

void TableReader::typeError(const toml::value& value, std::string_view key,
                            const std::string& expected) {
    error(value, key, "expected " + expected + ", got " + describeType(value));
}

void TableReader::missing(std::string_view key) {
    tableError(header_ + " is missing required key " + quote(key));
}

void TableReader::tableError(const std::string& message) { diags_->error(location(), message); }

const toml::value* TableReader::findString(std::string_view key) {
    const toml::value* value = find(key);
    if (value == nullptr) return nullptr;
    if (!value->is_string()) {
        typeError(*value, key, "a string");
        return nullptr;
    }
    return value;
}

bool TableReader::readString(std::string_view key, std::string* out) {
    const toml::value* value = findString(key);
    if (value == nullptr) return false;
    *out = value->as_string().str;
    return true;
}

bool TableReader::readBool(std::string_view key, bool* out) {
    const toml::value* value = find(key);
    if (value == nullptr) return false;
    if (!value->is_boolean()) {
        typeError(*value, key, "a boolean (true or false)");
        return false;
    }
    *out = value->as_boolean();
    return true;
}

bool TableReader::readInt64(std::string_view key, int64_t* out, int64_t min, int64_t max) {
    const toml::value* value = find(key);
    if (value == nullptr) return false;
    if (!value->is_integer()) {
        typeError(*value, key, "an integer");
        return false;
    }
    const int64_t v = value->as_integer();
    if (v < min || v > max) {
        error(*value, key,
              std::to_string(v) + " is out of range " + std::to_string(min) + ".." +
                  std::to_string(max));
        return false;
    }
    *out = v;
    return true;
}

bool TableReader::readDuration(std::string_view key, Duration* out, Duration min) {
    const toml::value* value = find(key);
    if (value == nullptr) return false;
    if (value->is_integer() || value->is_floating()) {
        error(*value, key,
              "a duration needs a unit and quotes, e.g. \"" +
                  (value->is_integer() ? std::to_string(value->as_integer()) : "1") +
                  "s\" (units: ms, s, m, h)");
        return false;
    }
    if (!value->is_string()) {
        typeError(*value, key, "a duration string like \"2s\"");
        return false;
    }
    std::string why;
    const auto duration = parseDuration(value->as_string().str, &why);
    if (!duration) {
        error(*value, key, why);
        return false;
    }
    if (*duration < min) {
        error(*value, key,
              min.count() == 1 ? "must be greater than 0"
                               : "must be at least " + std::to_string(min.count()) + "ms");
        return false;
    }
    *out = *duration;
    return true;
}

bool TableReader::readSize(std::string_view key, uint64_t* out, uint64_t min, uint64_t max) {
    const toml::value* value = find(key);
    if (value == nullptr) return false;
    uint64_t size = 0;
    if (value->is_integer()) {
        if (value->as_integer() < 0) {
            error(*value, key, "a size cannot be negative");
            return false;
        }
        size = static_cast<uint64_t>(value->as_integer());
    } else if (value->is_string()) {
        std::string why;
        const auto parsed = parseSize(value->as_string().str, &why);
        if (!parsed) {
            error(*value, key, why);
            return false;
        }
        size = *parsed;
    } else {
        typeError(*value, key, "a size (integer bytes or a string like \"64KiB\")");
        return false;
    }
    if (size < min || size > max) {
        error(*value, key,
              std::to_string(size) + " bytes is out of range " + std::to_string(min) + ".." +
                  std::to_string(max));
        return false;
    }
    *out = size;
    return true;
}

int TableReader::readChoice(std::string_view key, const std::vector<std::string>& names) {
    const toml::value* value = findString(key);
    if (value == nullptr) return -1;
    const std::string& text = value->as_string().str;
    const auto it = std::find(names.begin(), names.end(), text);
    if (it != names.end()) return static_cast<int>(it - names.begin());
    std::string allowed;
    for (const auto& name : names) allowed += (allowed.empty() ? "" : ", ") + quote(name);
    std::string message = "unknown value " + quote(text) + "; expected one of " + allowed;
    const std::string hint = closestMatch(text, names);
    if (!hint.empty()) message += "; did you mean " + quote(hint) + "?";
    error(*value, key, message);
    return -1;
}

const toml::value* TableReader::findTable(std::string_view key) {
    const toml::value* value = find(key);
    if (value == nullptr) return nullptr;
    if (!value->is_table()) {
        typeError(*value, key, "a table ([" + path(key) + "])");
        return nullptr;
    }
    return value;
}

const toml::value* TableReader::findArrayOfTables(std::string_view key) {
    const toml::value* value = find(key);
    if (value == nullptr) return nullptr;
    const bool ok =
        value->is_array() && std::all_of(value->as_array().begin(), value->as_array().end(),
                                         [](const toml::value& v) { return v.is_table(); });
    if (!ok) {
        diags_->error(*value, path(key) + ": expected an array of tables ([[" + path(key) +
                                  "]]), got " + describeType(*value));
        return nullptr;
    }
    return value;
}

void TableReader::reportUnknownKeys() {
    for (const auto& [key, value] : table_.as_table()) {
        if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
        std::string message = header_.empty() ? "unknown top-level key " + quote(key)
                                              : "unknown key " + quote(key) + " in " + header_;
        const std::string hint = closestMatch(key, known_);
        if (!hint.empty()) message += "; did you mean " + quote(hint) + "?";
        diags_->error(keyLocation(key, value, *diags_), message);
    }
}

}  // namespace sluice::config
