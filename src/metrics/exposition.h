#pragma once
// Writer of the Prometheus text exposition format 0.0.4, the body of `/metrics`.
//
// Hand-written, although Debian packages prometheus-cpp (1.0): its metrics are what the data path
// must not do (every counter, gauge and histogram bucket one shared atomic double, updated in a
// compare-exchange loop by all threads), and the one part we could use, TextSerializer over its
// MetricFamily structs, checks nothing (names, duplicate series), leaves HELP text unescaped and
// prints doubles in fixed notation with six decimals (le="0.005000", 1e-7 as "0.000000") in the
// sources read. It would also be a new run-time dependency of the deb/rpm, for ~200 lines here.
//
// What this writer guarantees, so that `promtool check metrics` and a Prometheus scrape accept
// the output:
//   - each family appears once, as "# HELP", "# TYPE", then all its samples, whatever order the
//     caller adds samples in; families in the order they were first declared (the caller's code
//     fixes it, so it is stable from scrape to scrape); families without samples are left out;
//     samples in the order they were added;
//   - metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and do not
//     begin with "__" (reserved); counters end in "_total" (admin.md); no two families produce
//     the same sample name (a histogram "x" takes x_bucket, x_sum, x_count);
//   - label values are escaped (\ -> \\, " -> \", newline -> \n), HELP text too (\ and newline);
//     invalid UTF-8 in either becomes U+FFFD, as Prometheus requires valid UTF-8;
//   - a series (family + label set, in any label order) is written at most once; a label name
//     appears once per sample; `le` is reserved for histogram buckets;
//   - values: integers in decimal; doubles in the shortest form that reads back exactly
//     ("0.005", "1", "2.5", "1e-07"), and "NaN", "+Inf", "-Inf"; bucket bounds the same way, as
//     the Go client formats `le`.
// Misuse (bad name, duplicate series, ...) is refused: the call returns false and writes nothing,
// so a bad label never breaks the whole scrape.
//
// Not thread-safe; build one per scrape:
//   Exposition out;
//   auto up = out.family(family::kServerUp);           // or family(name, type, help)
//   out.sample(up, {{"pool", "app"}, {"server", "app1"}}, 1);
//   std::string body = out.text();

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "metrics/duration_histogram.h"

namespace sluice::metrics {

inline constexpr std::string_view kExpositionContentType = "text/plain; version=0.0.4";

enum class MetricType { kCounter, kGauge, kHistogram };

struct FamilySpec {
    std::string_view name;
    MetricType type;
    std::string_view help;
};

struct Label {
    std::string_view name;
    std::string_view value;
};

// A borrowed list of labels: pass a braced list ({{"pool", "app"}}) or a vector that outlives
// the call.
class Labels {
  public:
    Labels() = default;
    Labels(std::initializer_list<Label> list) : items_(list.begin(), list.size()) {}
    Labels(std::span<const Label> items) : items_(items) {}
    Labels(const std::vector<Label>& items) : items_(items) {}
    std::span<const Label> items() const { return items_; }

  private:
    std::span<const Label> items_;
};

bool validMetricName(std::string_view name);
bool validLabelName(std::string_view name);
// The value as a sample value or `le` bound: shortest exact form, "NaN", "+Inf", "-Inf".
std::string formatSampleValue(double value);

class Exposition {
  public:
    struct FamilyId {
        size_t index = static_cast<size_t>(-1);
        bool valid() const { return index != static_cast<size_t>(-1); }
    };

    // Declares a family, or returns the one already declared with this name and type (the first
    // help text stays). Invalid id (see the rules above) when the name is bad or taken.
    FamilyId family(std::string_view name, MetricType type, std::string_view help);
    FamilyId family(const FamilySpec& spec) { return family(spec.name, spec.type, spec.help); }

    // One sample of a counter or gauge family.
    bool sample(FamilyId id, Labels labels, double value);
    template <typename T>
    requires std::is_integral_v<T>
    bool sample(FamilyId id, Labels labels, T value) {
        if constexpr (std::is_same_v<T, bool>) {
            return sampleText(id, labels, value ? "1" : "0");
        } else if constexpr (std::is_signed_v<T>) {
            return sampleText(id, labels, std::to_string(static_cast<long long>(value)));
        } else {
            return sampleText(id, labels, std::to_string(static_cast<unsigned long long>(value)));
        }
    }

    // One series of a histogram family: `bucket_counts` per bucket (not cumulative), one per
    // bound plus the +Inf bucket last; `upper_bounds` finite and strictly increasing; `sum` in
    // the family's unit. Writes the cumulative _bucket lines, then _sum, then _count.
    bool histogram(FamilyId id, Labels labels, std::span<const double> upper_bounds,
                   std::span<const uint64_t> bucket_counts, double sum);
    // The request-duration histogram, in seconds.
    bool histogram(FamilyId id, Labels labels, const HistogramTotals& totals);

    // The exposition text (ends with a newline unless empty).
    std::string text() const;

  private:
    struct Family {
        std::string name;
        MetricType type;
        std::string help;
        std::string body;              // sample lines
        std::set<std::string> series;  // canonical label sets already written
    };
    bool sampleText(FamilyId id, Labels labels, const std::string& value);
    // Checks labels (names, duplicates, `le`, series not yet written) and renders
    // `name="value",...` (escaped, in the caller's order) into `rendered`.
    bool acceptLabels(Family& family, Labels labels, std::string* rendered);

    std::vector<Family> families_;
    std::set<std::string, std::less<>> taken_;  // family and sample names in use
};

}  // namespace sluice::metrics
