#include "metrics/exposition.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace sluice::metrics {
namespace {

TEST(Exposition, ValidatesMetricAndLabelNames) {
    for (const char* ok : {"a", "_a", ":a", "sluice_up", "a:b_c9", "A"}) {
        EXPECT_TRUE(validMetricName(ok)) << ok;
    }
    for (const char* bad : {"", "9a", "a-b", "a b", "a.b", "é", "a\n"}) {
        EXPECT_FALSE(validMetricName(bad)) << bad;
    }
    for (const char* ok : {"a", "_a", "pool", "code", "le", "a9_"}) {
        EXPECT_TRUE(validLabelName(ok)) << ok;
    }
    for (const char* bad : {"", "9a", "a:b", "a-b", "__name__", "__x"}) {
        EXPECT_FALSE(validLabelName(bad)) << bad;
    }
}

TEST(Exposition, WritesHelpTypeAndSamples) {
    Exposition out;
    auto up = out.family("sluice_server_up", MetricType::kGauge, "1 when available.");
    ASSERT_TRUE(up.valid());
    EXPECT_TRUE(out.sample(up, {{"pool", "app"}, {"server", "app1"}}, 1));
    EXPECT_TRUE(out.sample(up, {{"pool", "app"}, {"server", "app2"}}, 0));
    auto gen = out.family("sluice_config_generation", MetricType::kGauge, "Generation.");
    EXPECT_TRUE(out.sample(gen, {}, uint64_t{3}));
    EXPECT_EQ(out.text(),
              "# HELP sluice_server_up 1 when available.\n"
              "# TYPE sluice_server_up gauge\n"
              "sluice_server_up{pool=\"app\",server=\"app1\"} 1\n"
              "sluice_server_up{pool=\"app\",server=\"app2\"} 0\n"
              "# HELP sluice_config_generation Generation.\n"
              "# TYPE sluice_config_generation gauge\n"
              "sluice_config_generation 3\n");
}

TEST(Exposition, EscapesLabelValues) {
    Exposition out;
    auto f = out.family("x", MetricType::kGauge, "h");
    EXPECT_TRUE(out.sample(f, {{"name", "a\\b\"c\nd"}}, 1));
    EXPECT_NE(out.text().find("x{name=\"a\\\\b\\\"c\\nd\"} 1\n"), std::string::npos) << out.text();
}

TEST(Exposition, EscapesHelpBackslashAndNewlineButNotQuotes) {
    Exposition out;
    auto f = out.family("x", MetricType::kGauge, "a \"quoted\" \\ path\nsecond line");
    out.sample(f, {}, 1);
    EXPECT_EQ(out.text().substr(0, out.text().find('\n') + 1),
              "# HELP x a \"quoted\" \\\\ path\\nsecond line\n");
}

TEST(Exposition, ReplacesInvalidUtf8AndKeepsValidUtf8) {
    Exposition out;
    auto f = out.family("x", MetricType::kGauge, "h");
    out.sample(f, {{"name", "caf\xC3\xA9"}}, 1);  // é, valid
    out.sample(f,
               {{"name",
                 "bad\xFF"
                 "end"}},
               1);                                // invalid byte
    out.sample(f, {{"name", "cut\xE2\x9C"}}, 1);  // truncated sequence
    out.sample(f, {{"name", "surrogate\xED\xA0\x80"}}, 1);
    const std::string text = out.text();
    EXPECT_NE(text.find("name=\"caf\xC3\xA9\""), std::string::npos);
    EXPECT_NE(text.find("name=\"bad\xEF\xBF\xBD"
                        "end\""),
              std::string::npos);
    EXPECT_NE(text.find("name=\"cut\xEF\xBF\xBD\xEF\xBF\xBD\""), std::string::npos);
    EXPECT_NE(text.find("name=\"surrogate\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""),
              std::string::npos);
}

// Samples added in any order still come out grouped under one HELP/TYPE per family, families in
// the order of their first declaration.
TEST(Exposition, GroupsEachFamilyOnceInDeclarationOrder) {
    Exposition out;
    auto a = out.family("a_total", MetricType::kCounter, "A.");
    auto b = out.family("b", MetricType::kGauge, "B.");
    out.sample(b, {{"k", "1"}}, 1);
    out.sample(a, {{"k", "1"}}, 2);
    out.sample(b, {{"k", "2"}}, 3);
    out.sample(out.family("a_total", MetricType::kCounter, "other help"), {{"k", "2"}}, 4);
    EXPECT_EQ(out.text(),
              "# HELP a_total A.\n# TYPE a_total counter\n"
              "a_total{k=\"1\"} 2\na_total{k=\"2\"} 4\n"
              "# HELP b B.\n# TYPE b gauge\n"
              "b{k=\"1\"} 1\nb{k=\"2\"} 3\n");
}

TEST(Exposition, LeavesOutFamiliesWithoutSamples) {
    Exposition out;
    out.family("empty", MetricType::kGauge, "Nothing.");
    EXPECT_EQ(out.text(), "");
    out.sample(out.family("full", MetricType::kGauge, "One."), {}, 1);
    EXPECT_EQ(out.text(), "# HELP full One.\n# TYPE full gauge\nfull 1\n");
}

TEST(Exposition, RefusesBadFamilies) {
    Exposition out;
    EXPECT_FALSE(out.family("bad-name", MetricType::kGauge, "h").valid());
    EXPECT_FALSE(out.family("requests", MetricType::kCounter, "h").valid());  // no _total
    EXPECT_TRUE(out.family("x", MetricType::kGauge, "h").valid());
    EXPECT_FALSE(out.family("x", MetricType::kCounter, "h").valid());  // other type
    EXPECT_EQ(out.family("x", MetricType::kGauge, "h").index,
              out.family("x", MetricType::kGauge, "h").index);
    // A histogram takes its sample names: no family may write them, in either order.
    EXPECT_TRUE(out.family("d", MetricType::kHistogram, "h").valid());
    EXPECT_FALSE(out.family("d_count", MetricType::kGauge, "h").valid());
    EXPECT_FALSE(out.family("d_bucket", MetricType::kGauge, "h").valid());
    EXPECT_TRUE(out.family("e_sum", MetricType::kGauge, "h").valid());
    EXPECT_FALSE(out.family("e", MetricType::kHistogram, "h").valid());
    EXPECT_FALSE(out.sample(Exposition::FamilyId{}, {}, 1));
}

TEST(Exposition, RefusesBadLabelsAndDuplicateSeries) {
    Exposition out;
    auto f = out.family("x", MetricType::kGauge, "h");
    EXPECT_FALSE(out.sample(f, {{"bad-label", "v"}}, 1));
    EXPECT_FALSE(out.sample(f, {{"__name__", "v"}}, 1));
    EXPECT_FALSE(out.sample(f, {{"a", "1"}, {"a", "2"}}, 1));  // a label twice
    EXPECT_TRUE(out.sample(f, {{"a", "1"}, {"b", "2"}}, 1));
    EXPECT_FALSE(out.sample(f, {{"a", "1"}, {"b", "2"}}, 2));  // same series
    EXPECT_FALSE(out.sample(f, {{"b", "2"}, {"a", "1"}}, 2));  // same series, other order
    EXPECT_TRUE(out.sample(f, {{"a", "1"}, {"b", "3"}}, 2));
    EXPECT_TRUE(out.sample(f, {}, 5));
    EXPECT_FALSE(out.sample(f, {}, 5));
    EXPECT_EQ(out.text(),
              "# HELP x h\n# TYPE x gauge\n"
              "x{a=\"1\",b=\"2\"} 1\nx{a=\"1\",b=\"3\"} 2\nx 5\n");
}

TEST(Exposition, AcceptsLabelsFromAVector) {
    Exposition out;
    auto f = out.family("x", MetricType::kGauge, "h");
    std::vector<Label> labels = {{"pool", "app"}};
    EXPECT_TRUE(out.sample(f, labels, 1));
    EXPECT_EQ(out.text(), "# HELP x h\n# TYPE x gauge\nx{pool=\"app\"} 1\n");
}

TEST(Exposition, FormatsValuesSoThatPrometheusReadsThemBack) {
    EXPECT_EQ(formatSampleValue(0.005), "0.005");
    EXPECT_EQ(formatSampleValue(1.0), "1");
    EXPECT_EQ(formatSampleValue(2.5), "2.5");
    EXPECT_EQ(formatSampleValue(10.0), "10");
    EXPECT_EQ(formatSampleValue(0.1 + 0.2), "0.30000000000000004");
    EXPECT_EQ(formatSampleValue(1e-7), "1e-07");
    EXPECT_EQ(formatSampleValue(1.5e21), "1.5e+21");
    EXPECT_EQ(formatSampleValue(-3.25), "-3.25");
    EXPECT_EQ(formatSampleValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
    EXPECT_EQ(formatSampleValue(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(formatSampleValue(-std::numeric_limits<double>::infinity()), "-Inf");

    Exposition out;
    auto f = out.family("v", MetricType::kGauge, "h");
    out.sample(f, {{"k", "u"}}, std::numeric_limits<uint64_t>::max());
    out.sample(f, {{"k", "i"}}, int64_t{-3});
    out.sample(f, {{"k", "b"}}, true);
    out.sample(f, {{"k", "d"}}, 1700000000.25);
    EXPECT_EQ(out.text(),
              "# HELP v h\n# TYPE v gauge\n"
              "v{k=\"u\"} 18446744073709551615\nv{k=\"i\"} -3\nv{k=\"b\"} 1\n"
              "v{k=\"d\"} 1700000000.25\n");
}

TEST(Exposition, WritesHistogramsCumulativeWithSumAndCount) {
    Exposition out;
    auto h = out.family("d_seconds", MetricType::kHistogram, "Durations.");
    const std::vector<double> bounds = {0.005, 0.5, 1};
    const std::vector<uint64_t> counts = {2, 0, 3, 1};  // last: +Inf
    EXPECT_TRUE(out.histogram(h, {{"pool", "app"}}, bounds, counts, 12.75));
    EXPECT_TRUE(out.histogram(h, {}, bounds, std::vector<uint64_t>{0, 0, 0, 0}, 0));
    EXPECT_EQ(out.text(),
              "# HELP d_seconds Durations.\n"
              "# TYPE d_seconds histogram\n"
              "d_seconds_bucket{pool=\"app\",le=\"0.005\"} 2\n"
              "d_seconds_bucket{pool=\"app\",le=\"0.5\"} 2\n"
              "d_seconds_bucket{pool=\"app\",le=\"1\"} 5\n"
              "d_seconds_bucket{pool=\"app\",le=\"+Inf\"} 6\n"
              "d_seconds_sum{pool=\"app\"} 12.75\n"
              "d_seconds_count{pool=\"app\"} 6\n"
              "d_seconds_bucket{le=\"0.005\"} 0\n"
              "d_seconds_bucket{le=\"0.5\"} 0\n"
              "d_seconds_bucket{le=\"1\"} 0\n"
              "d_seconds_bucket{le=\"+Inf\"} 0\n"
              "d_seconds_sum 0\n"
              "d_seconds_count 0\n");
}

TEST(Exposition, WritesTheDurationHistogramWithPrometheusStyleBounds) {
    Exposition out;
    auto h = out.family("d_seconds", MetricType::kHistogram, "Durations.");
    HistogramTotals totals;
    totals.buckets[1] = 4;
    totals.buckets[kDurationBuckets - 1] = 1;
    totals.sum_micros = 12'500'000 + 4 * 7'000;
    ASSERT_TRUE(out.histogram(h, {{"pool", "app"}}, totals));
    const std::string text = out.text();
    std::string les;
    for (size_t at = text.find("le=\""); at != std::string::npos; at = text.find("le=\"", at + 1)) {
        les += text.substr(at + 4, text.find('"', at + 4) - at - 4) + " ";
    }
    EXPECT_EQ(les, "0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 +Inf ");
    EXPECT_NE(text.find("d_seconds_bucket{pool=\"app\",le=\"0.005\"} 0\n"), std::string::npos);
    EXPECT_NE(text.find("d_seconds_bucket{pool=\"app\",le=\"0.01\"} 4\n"), std::string::npos);
    EXPECT_NE(text.find("d_seconds_bucket{pool=\"app\",le=\"10\"} 4\n"), std::string::npos);
    EXPECT_NE(text.find("d_seconds_bucket{pool=\"app\",le=\"+Inf\"} 5\n"), std::string::npos);
    EXPECT_NE(text.find("d_seconds_sum{pool=\"app\"} 12.528\n"), std::string::npos);
    EXPECT_NE(text.find("d_seconds_count{pool=\"app\"} 5\n"), std::string::npos);
}

TEST(Exposition, RefusesMalformedHistograms) {
    Exposition out;
    auto h = out.family("d", MetricType::kHistogram, "h");
    auto g = out.family("g", MetricType::kGauge, "h");
    const std::vector<double> bounds = {1, 2};
    const std::vector<uint64_t> counts = {1, 1, 1};
    EXPECT_FALSE(out.histogram(h, {{"le", "1"}}, bounds, counts, 1));  // le is the writer's
    EXPECT_FALSE(out.histogram(h, {}, bounds, std::vector<uint64_t>{1, 1}, 1));  // no +Inf
    EXPECT_FALSE(out.histogram(h, {}, std::vector<double>{2, 1}, counts, 1));    // not increasing
    EXPECT_FALSE(out.histogram(h, {}, std::vector<double>{1, INFINITY}, counts, 1));
    EXPECT_FALSE(out.histogram(g, {}, bounds, counts, 1));  // not a histogram family
    EXPECT_FALSE(out.sample(h, {}, 1));                     // a histogram has no plain sample
    EXPECT_TRUE(out.histogram(h, {}, bounds, counts, 1));
    EXPECT_FALSE(out.histogram(h, {}, bounds, counts, 1));  // same series twice
    EXPECT_TRUE(out.sample(g, {{"le", "x"}}, 1));           // `le` is fine outside histograms
}

}  // namespace
}  // namespace sluice::metrics
