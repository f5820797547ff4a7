// Prometheus text format 0.0.4: exact output for small families, escaping and number spelling.

#include "metrics/text_format.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace atlas_restored::metrics {
namespace {

TEST(TextFormat, RendersHelpTypeAndSamplesExactly) {
    std::vector<family> families;
    families.push_back(
        {"atlas_restored_retries_total", "Retried calls.", metric_type::counter, {{"", {}, 3}}});
    families.push_back({"atlas_restored_jobs",
                        "Jobs by status.",
                        metric_type::gauge,
                        {{"", {{"status", "BROKEN"}}, 0}, {"", {{"status", "IN_PROGRESS"}}, 4}}});
    families.push_back({"atlas_restored_run_duration_seconds",
                        "Durations.",
                        metric_type::histogram,
                        {{"_bucket", {{"policy", "p"}, {"le", "60"}}, 1},
                         {"_bucket", {{"policy", "p"}, {"le", "+Inf"}}, 2},
                         {"_sum", {{"policy", "p"}}, 90.5},
                         {"_count", {{"policy", "p"}}, 2}}});
    families.push_back({"atlas_restored_hash_mismatches_total", "None yet.", metric_type::counter, {}});

    EXPECT_EQ(render(families),
              "# HELP atlas_restored_retries_total Retried calls.\n"
              "# TYPE atlas_restored_retries_total counter\n"
              "atlas_restored_retries_total 3\n"
              "# HELP atlas_restored_jobs Jobs by status.\n"
              "# TYPE atlas_restored_jobs gauge\n"
              "atlas_restored_jobs{status=\"BROKEN\"} 0\n"
              "atlas_restored_jobs{status=\"IN_PROGRESS\"} 4\n"
              "# HELP atlas_restored_run_duration_seconds Durations.\n"
              "# TYPE atlas_restored_run_duration_seconds histogram\n"
              "atlas_restored_run_duration_seconds_bucket{policy=\"p\",le=\"60\"} 1\n"
              "atlas_restored_run_duration_seconds_bucket{policy=\"p\",le=\"+Inf\"} 2\n"
              "atlas_restored_run_duration_seconds_sum{policy=\"p\"} 90.5\n"
              "atlas_restored_run_duration_seconds_count{policy=\"p\"} 2\n"
              "# HELP atlas_restored_hash_mismatches_total None yet.\n"
              "# TYPE atlas_restored_hash_mismatches_total counter\n");
}

TEST(TextFormat, EscapesLabelValues) {
    EXPECT_EQ(escape_label_value(R"(a\b"c)"
                                 "\n"
                                 "d"),
              R"(a\\b\"c\nd)");
    EXPECT_EQ(escape_label_value("plain-name_1"), "plain-name_1");

    const std::vector<family> families = {
        {"m", "h", metric_type::gauge, {{"", {{"policy", "we\"ird\\\nname"}, {"x", ""}}, 1}}}};
    EXPECT_EQ(render(families), "# HELP m h\n# TYPE m gauge\nm{policy=\"we\\\"ird\\\\\\nname\",x=\"\"} 1\n");
}

TEST(TextFormat, EscapesHelpButNotQuotes) {
    EXPECT_EQ(escape_help("say \"hi\"\\\nnext"), "say \"hi\"\\\\\\nnext");
}

TEST(TextFormat, SpellsNumbersAsPrometheusReadsThem) {
    EXPECT_EQ(format_value(0), "0");
    EXPECT_EQ(format_value(42), "42");
    EXPECT_EQ(format_value(-3), "-3");
    EXPECT_EQ(format_value(0.25), "0.25");
    EXPECT_EQ(format_value(1732770000), "1732770000");                // timestamps stay integers
    EXPECT_EQ(format_value(1732770000.5), "1732770000.5");            // and keep their fraction
    EXPECT_EQ(format_value(9007199254740992.0), "9007199254740992");  // 2^53 bytes, exact
    EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(format_value(std::nan("")), "NaN");
}

}  // namespace
}  // namespace atlas_restored::metrics
