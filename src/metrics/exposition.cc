#include "metrics/exposition.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

namespace sluice::metrics {

namespace {

bool isAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one (overlong forms,
// surrogates and code points above U+10FFFF are invalid, as Go's utf8.ValidString says).
size_t utf8SequenceLength(std::string_view s, size_t i) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    if (c < 0x80) return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
    for (size_t k = 2; k < n; ++k) {
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
    }
    return n;
}

// Appends `s` escaped: backslash and newline always, the double quote when `quote` (label
// values; HELP text keeps its quotes). Invalid UTF-8 bytes become U+FFFD.
void appendEscaped(std::string_view s, bool quote, std::string* out) {
    for (size_t i = 0; i < s.size();) {
        const char c = s[i];
        if (c == '\\') {
            out->append("\\\\");
        } else if (c == '\n') {
            out->append("\\n");
        } else if (c == '"' && quote) {
            out->append("\\\"");
        } else {
            const size_t n = utf8SequenceLength(s, i);
            if (n == 0) {
                out->append("\xEF\xBF\xBD");
                ++i;
                continue;
            }
            out->append(s.substr(i, n));
            i += n;
            continue;
        }
        ++i;
    }
}

const char* typeName(MetricType type) {
    switch (type) {
        case MetricType::kCounter:
            return "counter";
        case MetricType::kGauge:
            return "gauge";
        case MetricType::kHistogram:
            return "histogram";
    }
    return "untyped";
}

// The sample names a family writes.
std::vector<std::string> sampleNames(std::string_view name, MetricType type) {
    if (type != MetricType::kHistogram) return {std::string(name)};
    const std::string base(name);
    return {base + "_bucket", base + "_sum", base + "_count"};
}

}  // namespace

bool validMetricName(std::string_view name) {
    if (name.empty()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool ok = isAsciiLetter(c) || c == '_' || c == ':' || (i > 0 && isAsciiDigit(c));
        if (!ok) return false;
    }
    return true;
}

bool validLabelName(std::string_view name) {
    if (name.empty() || name.starts_with("__")) return false;
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        if (!(isAsciiLetter(c) || c == '_' || (i > 0 && isAsciiDigit(c)))) return false;
    }
    return true;
}

std::string formatSampleValue(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    // Shortest representation that parses back to the same double (Go's 'g', -1 gives the same
    // digits): "0.005", "1", "2.5", "1e-07". Locale-independent, unlike printf.
    char buf[64];
    const auto result = std::to_chars(buf, buf + sizeof buf, value);
    return std::string(buf, result.ptr);
}

Exposition::FamilyId Exposition::family(std::string_view name, MetricType type,
                                        std::string_view help) {
    for (size_t i = 0; i < families_.size(); ++i) {
        if (families_[i].name == name) {
            return families_[i].type == type ? FamilyId{i} : FamilyId{};
        }
    }
    if (!validMetricName(name)) return {};
    if (type == MetricType::kCounter && !name.ends_with("_total")) return {};
    std::vector<std::string> names = sampleNames(name, type);
    names.emplace_back(name);
    for (const auto& n : names) {
        if (taken_.count(n)) return {};
    }
    taken_.insert(names.begin(), names.end());
    families_.push_back({std::string(name), type, std::string(help), {}, {}});
    return FamilyId{families_.size() - 1};
}

bool Exposition::acceptLabels(Family& family, Labels labels, std::string* rendered) {
    std::vector<std::pair<std::string_view, std::string_view>> sorted;
    for (const Label& l : labels.items()) {
        if (!validLabelName(l.name)) return false;
        if (family.type == MetricType::kHistogram && l.name == "le") return false;
        sorted.emplace_back(l.name, l.value);
    }
    std::sort(sorted.begin(), sorted.end());
    std::string key;
    for (size_t i = 0; i < sorted.size(); ++i) {
        if (i > 0 && sorted[i].first == sorted[i - 1].first) return false;  // label twice
        key.append(sorted[i].first).push_back('\0');
        key.append(sorted[i].second).push_back('\0');
    }
    if (!family.series.insert(std::move(key)).second) return false;  // series already written

    rendered->clear();
    for (const Label& l : labels.items()) {
        if (!rendered->empty()) rendered->push_back(',');
        rendered->append(l.name).append("=\"");
        appendEscaped(l.value, true, rendered);
        rendered->push_back('"');
    }
    return true;
}

bool Exposition::sampleText(FamilyId id, Labels labels, const std::string& value) {
    if (!id.valid() || id.index >= families_.size()) return false;
    Family& f = families_[id.index];
    if (f.type == MetricType::kHistogram) return false;
    std::string rendered;
    if (!acceptLabels(f, labels, &rendered)) return false;
    f.body.append(f.name);
    if (!rendered.empty()) f.body.append("{").append(rendered).append("}");
    f.body.append(" ").append(value).append("\n");
    return true;
}

bool Exposition::sample(FamilyId id, Labels labels, double value) {
    return sampleText(id, labels, formatSampleValue(value));
}

bool Exposition::histogram(FamilyId id, Labels labels, std::span<const double> upper_bounds,
                           std::span<const uint64_t> bucket_counts, double sum) {
    if (!id.valid() || id.index >= families_.size()) return false;
    Family& f = families_[id.index];
    if (f.type != MetricType::kHistogram) return false;
    if (bucket_counts.size() != upper_bounds.size() + 1) return false;
    for (size_t i = 0; i < upper_bounds.size(); ++i) {
        if (!std::isfinite(upper_bounds[i])) return false;
        if (i > 0 && !(upper_bounds[i] > upper_bounds[i - 1])) return false;
    }
    std::string rendered;
    if (!acceptLabels(f, labels, &rendered)) return false;
    const std::string prefix = rendered.empty() ? "" : rendered + ",";
    const std::string block = rendered.empty() ? "" : "{" + rendered + "}";

    uint64_t cumulative = 0;
    for (size_t i = 0; i < bucket_counts.size(); ++i) {
        cumulative += bucket_counts[i];
        const std::string le =
            i < upper_bounds.size() ? formatSampleValue(upper_bounds[i]) : std::string("+Inf");
        f.body.append(f.name).append("_bucket{").append(prefix).append("le=\"").append(le);
        f.body.append("\"} ").append(std::to_string(cumulative)).append("\n");
    }
    f.body.append(f.name).append("_sum").append(block).append(" ");
    f.body.append(formatSampleValue(sum)).append("\n");
    f.body.append(f.name).append("_count").append(block).append(" ");
    f.body.append(std::to_string(cumulative)).append("\n");
    return true;
}

bool Exposition::histogram(FamilyId id, Labels labels, const HistogramTotals& totals) {
    return histogram(id, labels, kDurationBoundsSeconds, totals.buckets, totals.sumSeconds());
}

std::string Exposition::text() const {
    std::string out;
    for (const Family& f : families_) {
        if (f.body.empty()) continue;
        out.append("# HELP ").append(f.name).append(" ");
        appendEscaped(f.help, false, &out);
        out.append("\n# TYPE ").append(f.name).append(" ").append(typeName(f.type)).append("\n");
        out.append(f.body);
    }
    return out;
}

}  // namespace sluice::metrics
