// The recorder: what each call does to the scrape, bounded label sets, and the whole text of a
// small registry as a golden file.

#include "metrics/prometheus.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace atlas_restored::metrics {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

const system_clock::time_point t0 = system_clock::time_point(1'750'000'000s);

// The value of the one sample line starting with `series` + " ", or "" when absent.
std::string value_of(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(series + " ", 0) == 0) {
            return line.substr(series.size() + 1);
        }
    }
    return "";
}

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(PrometheusRecorder, GoldenTextOfASmallRegistry) {
    prometheus_recorder r({.max_policies = 10, .started = t0});
    r.run_finished("orders", "succeeded", 90s);
    r.run_finished("orders", "job_broken", 2h);
    r.jobs_by_status("IN_PROGRESS", 3);
    r.http_response(200);
    r.http_response(429);
    r.http_response(0);
    r.retry();
    r.download_bytes("orders", 1'000'000);
    r.hash_mismatch("orders");
    r.link_expiring("orders");
    r.drill_succeeded("orders", t0 + 60s);
    r.set_drill_max_ages({{"orders", 8 * 24h}});
    r.config_reloaded(false, t0 + 120s);
    r.active_runs(1);
    r.active_downloads(2);
    r.notification_failed();

    const std::string expected =
        "# HELP atlas_restored_runs_total Finished runs by policy and outcome (succeeded, cancelled or the "
        "failure reason code).\n"
        "# TYPE atlas_restored_runs_total counter\n"
        "atlas_restored_runs_total{policy=\"orders\",outcome=\"job_broken\"} 1\n"
        "atlas_restored_runs_total{policy=\"orders\",outcome=\"succeeded\"} 1\n"
        "# HELP atlas_restored_jobs Atlas restore jobs tracked by unfinished runs, by job statusName.\n"
        "# TYPE atlas_restored_jobs gauge\n"
        "atlas_restored_jobs{status=\"BROKEN\"} 0\n"
        "atlas_restored_jobs{status=\"FINISHED\"} 0\n"
        "atlas_restored_jobs{status=\"IN_PROGRESS\"} 3\n"
        "atlas_restored_jobs{status=\"KILLED\"} 0\n"
        "# HELP atlas_restored_http_requests_total HTTP answers from Atlas and download hosts by status "
        "class; error: no answer (transport failure).\n"
        "# TYPE atlas_restored_http_requests_total counter\n"
        "atlas_restored_http_requests_total{code_class=\"2xx\"} 1\n"
        "atlas_restored_http_requests_total{code_class=\"3xx\"} 0\n"
        "atlas_restored_http_requests_total{code_class=\"4xx\"} 1\n"
        "atlas_restored_http_requests_total{code_class=\"5xx\"} 0\n"
        "atlas_restored_http_requests_total{code_class=\"error\"} 1\n"
        "# HELP atlas_restored_retries_total Retried Atlas API calls and download attempts.\n"
        "# TYPE atlas_restored_retries_total counter\n"
        "atlas_restored_retries_total 1\n"
        "# HELP atlas_restored_download_bytes_total Bytes of restore files downloaded, by policy.\n"
        "# TYPE atlas_restored_download_bytes_total counter\n"
        "atlas_restored_download_bytes_total{policy=\"orders\"} 1000000\n"
        "# HELP atlas_restored_hash_mismatches_total Downloaded files whose SHA1 differed from Atlas's "
        "hash.\n"
        "# TYPE atlas_restored_hash_mismatches_total counter\n"
        "atlas_restored_hash_mismatches_total{policy=\"orders\"} 1\n"
        "# HELP atlas_restored_link_expiring_total Download links about to expire or run out of downloads "
        "unused.\n"
        "# TYPE atlas_restored_link_expiring_total counter\n"
        "atlas_restored_link_expiring_total{policy=\"orders\"} 1\n"
        "# HELP atlas_restored_last_successful_drill_timestamp_seconds Unix time of the last successful "
        "drill "
        "of a policy (the dead-man's switch for drills).\n"
        "# TYPE atlas_restored_last_successful_drill_timestamp_seconds gauge\n"
        "atlas_restored_last_successful_drill_timestamp_seconds{policy=\"orders\"} 1750000060\n"
        "# HELP atlas_restored_drill_max_age_seconds How old the last successful drill of a scheduled policy "
        "may be before it is overdue.\n"
        "# TYPE atlas_restored_drill_max_age_seconds gauge\n"
        "atlas_restored_drill_max_age_seconds{policy=\"orders\"} 691200\n"
        "# HELP atlas_restored_run_duration_seconds Duration of finished runs (any outcome), by policy.\n"
        "# TYPE atlas_restored_run_duration_seconds histogram\n"
        "atlas_restored_run_duration_seconds_bucket{policy=\"orders\",le=\"60\"} 0\n"
        "atlas_restored_run_duration_seconds_bucket{policy=\"orders\",le=\"300\"} 1\n"
        "atlas_restored_run_duration_seconds_bucket{policy=\"orders\",le=\"600\"} 1\n"
        "atlas_restored_run_duration_seconds_bucket{policy=\"orders\",le=\"1800\"} 1\n"
        "atlas_restored_run_duration_seconds_bucket{policy=\"orders\",le=\"3600\"} 1\n"
        "atlas_restored_run_duration_seconds_bucket{policy=\"orders\",le=\"7200\"} 2\n"
        "atlas_restored_run_duration_seconds_bucket{policy=\"orders\",le=\"14400\"} 2\n"
        "atlas_restored_run_duration_seconds_bucket{policy=\"orders\",le=\"21600\"} 2\n"
        "atlas_restored_run_duration_seconds_bucket{policy=\"orders\",le=\"43200\"} 2\n"
        "atlas_restored_run_duration_seconds_bucket{policy=\"orders\",le=\"64800\"} 2\n"
        "atlas_restored_run_duration_seconds_bucket{policy=\"orders\",le=\"86400\"} 2\n"
        "atlas_restored_run_duration_seconds_bucket{policy=\"orders\",le=\"+Inf\"} 2\n"
        "atlas_restored_run_duration_seconds_sum{policy=\"orders\"} 7290\n"
        "atlas_restored_run_duration_seconds_count{policy=\"orders\"} 2\n"
        "# HELP atlas_restored_config_last_reload_successful 1 if the last configuration load or reload "
        "succeeded, else 0.\n"
        "# TYPE atlas_restored_config_last_reload_successful gauge\n"
        "atlas_restored_config_last_reload_successful 0\n"
        "# HELP atlas_restored_config_last_reload_timestamp_seconds Unix time of the last configuration load "
        "or reload attempt.\n"
        "# TYPE atlas_restored_config_last_reload_timestamp_seconds gauge\n"
        "atlas_restored_config_last_reload_timestamp_seconds 1750000120\n"
        "# HELP atlas_restored_active_runs Runs in flight.\n"
        "# TYPE atlas_restored_active_runs gauge\n"
        "atlas_restored_active_runs 1\n"
        "# HELP atlas_restored_active_downloads Downloads in progress.\n"
        "# TYPE atlas_restored_active_downloads gauge\n"
        "atlas_restored_active_downloads 2\n"
        "# HELP atlas_restored_notifications_failed_total Webhook notifications that could not be "
        "delivered.\n"
        "# TYPE atlas_restored_notifications_failed_total counter\n"
        "atlas_restored_notifications_failed_total 1\n"
        "# HELP atlas_restored_build_info Always 1; the version label names the running build.\n"
        "# TYPE atlas_restored_build_info gauge\n"
        "atlas_restored_build_info{version=\"" ATLAS_RESTORED_VERSION "\"} 1\n";
    EXPECT_EQ(r.render(), expected);
}

TEST(PrometheusRecorder, FreshRecorderShowsEveryFamilyAndZeroes) {
    prometheus_recorder r({.started = t0});
    const std::string text = r.render();
    for (const char* name : {"runs_total",
                             "jobs",
                             "http_requests_total",
                             "retries_total",
                             "download_bytes_total",
                             "hash_mismatches_total",
                             "link_expiring_total",
                             "last_successful_drill_timestamp_seconds",
                             "run_duration_seconds",
                             "config_last_reload_successful",
                             "config_last_reload_timestamp_seconds",
                             "active_runs",
                             "active_downloads",
                             "notifications_failed_total"}) {
        EXPECT_TRUE(text.find("# TYPE atlas_restored_" + std::string(name) + " ") != std::string::npos)
            << name;
    }
    // Loaded at start-up: success, at the time the recorder was made.
    EXPECT_EQ(value_of(text, "atlas_restored_config_last_reload_successful"), "1");
    EXPECT_EQ(value_of(text, "atlas_restored_config_last_reload_timestamp_seconds"), "1750000000");
    EXPECT_EQ(value_of(text, "atlas_restored_http_requests_total{code_class=\"5xx\"}"), "0");
    EXPECT_EQ(value_of(text, "atlas_restored_jobs{status=\"KILLED\"}"), "0");
}

TEST(PrometheusRecorder, CountersAccumulateAndGaugesAreSet) {
    prometheus_recorder r({.started = t0});
    r.download_bytes("a", 10);
    r.download_bytes("a", 15);
    r.download_bytes("b", 1);
    r.jobs_by_status("FINISHED", 5);
    r.jobs_by_status("FINISHED", 2);
    r.active_runs(3);
    r.active_runs(0);
    for (int i = 0; i < 4; ++i) {
        r.retry();
    }
    const std::string text = r.render();
    EXPECT_EQ(value_of(text, "atlas_restored_download_bytes_total{policy=\"a\"}"), "25");
    EXPECT_EQ(value_of(text, "atlas_restored_download_bytes_total{policy=\"b\"}"), "1");
    EXPECT_EQ(value_of(text, "atlas_restored_jobs{status=\"FINISHED\"}"), "2");
    EXPECT_EQ(value_of(text, "atlas_restored_active_runs"), "0");
    EXPECT_EQ(value_of(text, "atlas_restored_retries_total"), "4");
}

TEST(PrometheusRecorder, SqliteMemoryIsReadAtEachScrapeWhenProvided) {
    EXPECT_EQ(prometheus_recorder({.started = t0}).render().find("sqlite_memory_bytes"), std::string::npos);
    std::int64_t held = 1024;
    prometheus_recorder r({.started = t0, .sqlite_memory_bytes = [&held] { return held; }});
    EXPECT_EQ(value_of(r.render(), "atlas_restored_sqlite_memory_bytes"), "1024");
    held = 2'000'000;
    EXPECT_EQ(value_of(r.render(), "atlas_restored_sqlite_memory_bytes"), "2000000");
    EXPECT_EQ(r.render().find("heap_in_use_bytes"), std::string::npos);
    prometheus_recorder h({.started = t0, .heap_in_use_bytes = [] { return std::int64_t{4096}; }});
    EXPECT_EQ(value_of(h.render(), "atlas_restored_heap_in_use_bytes"), "4096");
}

TEST(PrometheusRecorder, StatusClasses) {
    EXPECT_EQ(code_class(200), "2xx");
    EXPECT_EQ(code_class(206), "2xx");
    EXPECT_EQ(code_class(302), "3xx");
    EXPECT_EQ(code_class(404), "4xx");
    EXPECT_EQ(code_class(429), "4xx");
    EXPECT_EQ(code_class(503), "5xx");
    EXPECT_EQ(code_class(599), "5xx");
    EXPECT_EQ(code_class(0), "error");
    EXPECT_EQ(code_class(100), "error");
    EXPECT_EQ(code_class(600), "error");
    EXPECT_EQ(code_class(-1), "error");
}

TEST(PrometheusRecorder, LabelSetsStayBounded) {
    prometheus_recorder r({.max_policies = 2, .started = t0});
    r.run_finished("p1", "succeeded", 1s);
    r.run_finished("p2", "made_up_reason: with a sentence", 1s);
    r.run_finished("p3", "succeeded", 1s);
    r.download_bytes("p4", 7);
    r.jobs_by_status("SOMETHING_NEW", 1);
    const std::string text = r.render();
    EXPECT_TRUE(has_line(text, "atlas_restored_runs_total{policy=\"p1\",outcome=\"succeeded\"} 1"));
    EXPECT_TRUE(has_line(text, "atlas_restored_runs_total{policy=\"p2\",outcome=\"other\"} 1"));
    EXPECT_TRUE(has_line(text, "atlas_restored_runs_total{policy=\"_other\",outcome=\"succeeded\"} 1"));
    EXPECT_TRUE(has_line(text, "atlas_restored_download_bytes_total{policy=\"_other\"} 7"));
    EXPECT_TRUE(has_line(text, "atlas_restored_jobs{status=\"other\"} 1"));
    EXPECT_EQ(text.find("p3"), std::string::npos);
    EXPECT_EQ(text.find("made_up"), std::string::npos);
    EXPECT_EQ(text.find("SOMETHING_NEW"), std::string::npos);
}

TEST(PrometheusRecorder, EveryReasonCodeIsAKnownOutcome) {
    prometheus_recorder r({.started = t0});
    for (const auto& outcome : known_outcomes()) {
        r.run_finished("p", outcome, 1s);
    }
    const std::string text = r.render();
    EXPECT_EQ(text.find("outcome=\"other\""), std::string::npos);
    EXPECT_TRUE(has_line(text, "atlas_restored_runs_total{policy=\"p\",outcome=\"sha1_mismatch\"} 1"));
    EXPECT_TRUE(has_line(text, "atlas_restored_runs_total{policy=\"p\",outcome=\"deadline_exceeded\"} 1"));
    EXPECT_EQ(known_outcomes().size(), 14u);
}

TEST(PrometheusRecorder, DurationBucketsAreInclusiveUpperBounds) {
    prometheus_recorder r({.started = t0});
    r.run_finished("p", "succeeded", 60s);  // exactly on a bound: counts in le="60"
    r.run_finished("p", "succeeded", 25h);  // beyond the last bound: only +Inf
    r.run_finished("p", "succeeded", -5s);  // a clock step backwards is clamped to 0
    const std::string text = r.render();
    EXPECT_EQ(value_of(text, "atlas_restored_run_duration_seconds_bucket{policy=\"p\",le=\"60\"}"), "2");
    EXPECT_EQ(value_of(text, "atlas_restored_run_duration_seconds_bucket{policy=\"p\",le=\"86400\"}"), "2");
    EXPECT_EQ(value_of(text, "atlas_restored_run_duration_seconds_bucket{policy=\"p\",le=\"+Inf\"}"), "3");
    EXPECT_EQ(value_of(text, "atlas_restored_run_duration_seconds_sum{policy=\"p\"}"), "90060");
    EXPECT_EQ(value_of(text, "atlas_restored_run_duration_seconds_count{policy=\"p\"}"), "3");
}

TEST(PrometheusRecorder, DeadMansSwitchNeverMovesBackwards) {
    prometheus_recorder r({.started = t0});
    const std::string series = "atlas_restored_last_successful_drill_timestamp_seconds{policy=\"p\"}";
    EXPECT_EQ(value_of(r.render(), series), "");  // no success yet: no series (see the rule file)
    r.drill_succeeded("p", t0 + 100s);
    r.drill_succeeded("p", t0 + 50s);  // e.g. seeded from the database after a live success
    EXPECT_EQ(value_of(r.render(), series), "1750000100");
    r.drill_succeeded("p", t0 + 200s);
    EXPECT_EQ(value_of(r.render(), series), "1750000200");
}

TEST(PrometheusRecorder, DrillMaxAgesFollowTheConfiguration) {
    prometheus_recorder r({.started = t0});
    r.set_drill_max_ages({{"a", 3600s}, {"b", 7200s}});
    r.set_drill_max_ages({{"b", 60s}});  // a removed by a reload
    const std::string text = r.render();
    EXPECT_EQ(value_of(text, "atlas_restored_drill_max_age_seconds{policy=\"a\"}"), "");
    EXPECT_EQ(value_of(text, "atlas_restored_drill_max_age_seconds{policy=\"b\"}"), "60");
}

TEST(PrometheusRecorder, ConfigReloadGauges) {
    prometheus_recorder r({.started = t0});
    r.config_reloaded(false, t0 + 10s);
    EXPECT_EQ(value_of(r.render(), "atlas_restored_config_last_reload_successful"), "0");
    r.config_reloaded(true, t0 + 20s);
    const std::string text = r.render();
    EXPECT_EQ(value_of(text, "atlas_restored_config_last_reload_successful"), "1");
    EXPECT_EQ(value_of(text, "atlas_restored_config_last_reload_timestamp_seconds"), "1750000020");
}

}  // namespace
}  // namespace atlas_restored::metrics
