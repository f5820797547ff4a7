// The daemon's /metrics and /healthz on metrics_listen (issue 5 §4), scraped after a run and after
// a refused reload.

#include "daemon_support.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace atlas_restored::testing {
namespace {

using namespace std::chrono_literals;

TEST(DaemonMetrics, ScrapedAfterARunAndAfterARefusedReload) {
    temp_dir dir{"daemon-metrics"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    config_options options;
    options.policies_yaml = http_policy("oncall", "rs0", "    trigger: INC-55\n") +
                            http_policy("weekly", "rs0", "    schedule: \"0 3 * * SUN\"\n");
    const auto port = free_port();
    options.metrics_port = port;
    const auto config = write_config(dir.path(), fake, options);

    daemon_process daemon(dir.path(), config);
    ASSERT_TRUE(daemon.wait_started()) << daemon.log();
    const auto runs = wait_for_final_runs(config, "oncall", 1);
    ASSERT_EQ(runs.size(), 1u);
    ASSERT_EQ(str(runs[0].at("state")), "succeeded") << daemon.log();

    const auto health = http_get(port, "/healthz");
    EXPECT_EQ(health.rfind("HTTP/1.1 200", 0), 0u) << health;
    std::string metrics;
    // The outcome is counted as the run finishes: allow the scrape to catch up.
    EXPECT_TRUE(eventually(
        [&] {
            metrics = http_get(port, "/metrics");
            return metrics.find("atlas_restored_runs_total{policy=\"oncall\",outcome=\"succeeded\"} 1") !=
                   std::string::npos;
        },
        10s))
        << metrics;
    EXPECT_EQ(metrics.rfind("HTTP/1.1 200", 0), 0u);
    EXPECT_NE(metrics.find("# TYPE atlas_restored_runs_total counter"), std::string::npos);
    EXPECT_NE(metrics.find("atlas_restored_config_last_reload_successful 1"), std::string::npos) << metrics;
    // Atlas API answers are counted too, not only downloads: token, snapshots, create, polls.
    const std::string ok_line = "atlas_restored_http_requests_total{code_class=\"2xx\"} ";
    const auto ok_at = metrics.find(ok_line);
    ASSERT_NE(ok_at, std::string::npos) << metrics;
    EXPECT_GE(std::stod(metrics.substr(ok_at + ok_line.size())), 4.0) << metrics;
    // The dead-man's switch threshold of the scheduled policy: a week + deadline.
    EXPECT_NE(metrics.find("atlas_restored_drill_max_age_seconds{policy=\"weekly\"} 605100"),
              std::string::npos)
        << metrics;

    write_file(config, read_file(config) + "  - name: [broken\n");
    daemon.signal(SIGHUP);
    ASSERT_TRUE(daemon.wait_for_log("reload refused")) << daemon.log();
    EXPECT_TRUE(eventually(
        [&] {
            return http_get(port, "/metrics").find("atlas_restored_config_last_reload_successful 0") !=
                   std::string::npos;
        },
        10s));
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait(10s), 0);
    EXPECT_EQ(http_get(port, "/metrics"), "");  // the endpoint went with the daemon
}

// The dead-man's switch alert fires when a drill's last success is too old: a restart must not
// make it read "never" (a false page) nor count an on-call restore as a drill.
TEST(DaemonMetrics, TheLastSuccessfulDrillSurvivesARestart) {
    temp_dir dir{"daemon-metrics-restart"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    config_options options;
    options.policies_yaml = http_policy("oncall", "rs0", "    trigger: INC-56\n") +
                            http_policy("weekly", "rs0", "    schedule: \"0 3 * * SUN\"\n");
    const auto port = free_port();
    options.metrics_port = port;
    const auto config = write_config(dir.path(), fake, options);
    const std::string drill_line =
        "atlas_restored_last_successful_drill_timestamp_seconds{policy=\"weekly\"} ";
    const auto drill_value = [&](const std::string& metrics) {
        const auto found = metrics.find(drill_line);
        return found == std::string::npos ? std::string()
                                          : metrics.substr(found, metrics.find('\n', found) - found);
    };

    std::string before;
    {
        daemon_process daemon(dir.path(), config);
        ASSERT_TRUE(daemon.wait_started()) << daemon.log();
        ASSERT_EQ(wait_for_final_runs(config, "oncall", 1).size(), 1u) << daemon.log();
        const auto r = run_atlas_restored({"run-now", "--config", config.string(), "weekly"});
        ASSERT_EQ(r.status, 0) << r.err << daemon.log();
        const auto runs = wait_for_final_runs(config, "weekly", 1);
        ASSERT_EQ(runs.size(), 1u);
        ASSERT_EQ(str(runs[0].at("state")), "succeeded") << daemon.log();
        EXPECT_TRUE(
            eventually([&] { return !(before = drill_value(http_get(port, "/metrics"))).empty(); }, 10s));
        daemon.signal(SIGTERM);
        ASSERT_EQ(daemon.wait(10s), 0);
    }
    ASSERT_FALSE(before.empty());

    daemon_process restarted(dir.path(), config);
    ASSERT_TRUE(restarted.wait_started()) << restarted.log();
    const auto metrics = http_get(port, "/metrics");
    EXPECT_EQ(drill_value(metrics), before) << metrics;
    // The trigger's run was a restore, not a drill.
    EXPECT_EQ(metrics.find("atlas_restored_last_successful_drill_timestamp_seconds{policy=\"oncall\"}"),
              std::string::npos)
        << metrics;
    restarted.signal(SIGTERM);
    EXPECT_EQ(restarted.wait(10s), 0);
}

}  // namespace
}  // namespace atlas_restored::testing
