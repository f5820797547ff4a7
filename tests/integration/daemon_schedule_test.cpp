// Drills on schedule (issue 3 §3): a fire missed while the daemon was down runs once at start (never
// a burst), and the cron timer fires on the minute. The timer is tested with the real clock and an
// every-minute schedule, so this test takes up to about 85 seconds; no test-only clock exists in
// the daemon.

#include "daemon_support.hpp"
#include "util/time.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <thread>

namespace atlas_restored::testing {
namespace {

using namespace std::chrono_literals;

TEST(DaemonSchedule, AMissedFireRunsOnceThenTheTimerFiresOnTheMinute) {
    temp_dir dir{"daemon-schedule"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    config_options options;
    options.policies_yaml = http_policy("drill", "rs0", "    schedule: \"* * * * *\"\n");
    const auto config = write_config(dir.path(), fake, options);

    // A first start with a schedule that does not fire soon records when the daemon first saw the
    // policy; then that moment is moved five minutes back: five every-minute fires were missed.
    {
        config_options yearly = options;
        yearly.policies_yaml = http_policy("drill", "rs0", "    schedule: \"0 3 1 1 *\"\n");
        write_config(dir.path(), fake, yearly);
        daemon_process first(dir.path(), config);
        ASSERT_TRUE(first.wait_started()) << first.log();
        first.signal(SIGTERM);
        ASSERT_EQ(first.wait(10s), 0) << first.log();
    }
    const auto db = dir.path() / "state" / "atlas-restored.db";
    ASSERT_TRUE(sql_int(db, "SELECT last_fire FROM schedule_fires WHERE policy = 'drill'"));
    const auto now = std::chrono::system_clock::now();
    sql_exec(db,
             "UPDATE schedule_fires SET last_fire = " + std::to_string(to_unix_millis(now - 5min)) +
                 " WHERE policy = 'drill'");
    write_config(dir.path(), fake, options);
    // The catch-up run must be over before the next minute's fire (a fire that finds the policy's
    // previous scheduled run unfinished is skipped): start in the first three quarters of a minute.
    const auto second_of_minute = [] {
        return std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count() %
               60;
    };
    if (second_of_minute() > 45) {
        std::this_thread::sleep_for(std::chrono::seconds(61 - second_of_minute()));
    }
    daemon_process daemon(dir.path(), config);
    ASSERT_TRUE(daemon.wait_started()) << daemon.log();

    // One catch-up run, for the latest missed minute.
    auto runs = wait_for_final_runs(config, "drill", 1, 30s);
    ASSERT_EQ(runs.size(), 1u) << daemon.log();
    EXPECT_EQ(str(runs[0].at("trigger")), "schedule");
    EXPECT_EQ(str(runs[0].at("state")), "succeeded") << daemon.log();
    const auto missed = parse_iso8601(str(runs[0].at("planned_at")));
    ASSERT_TRUE(missed) << str(runs[0].at("planned_at"));
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(missed->time_since_epoch()).count() % 60, 0);
    EXPECT_LE(*missed, std::chrono::system_clock::now());
    EXPECT_GT(*missed, now - 61s);

    // status shows the next fire: the minute after the missed one (or later).
    const auto policy = status_json(config).at("policies").as_array()[0].as_object();
    EXPECT_EQ(str(policy.at("last_outcome")), "succeeded");
    const auto next = parse_iso8601(str(policy.at("next_fire_time")));
    ASSERT_TRUE(next);
    EXPECT_GE(*next, *missed + 60s);

    // The timer: the next minute's fire, within a bounded wait.
    runs = wait_for_final_runs(config, "drill", 2, 75s);
    ASSERT_EQ(runs.size(), 2u) << daemon.log();
    EXPECT_EQ(str(runs[1].at("trigger")), "schedule");
    EXPECT_EQ(str(runs[1].at("state")), "succeeded") << daemon.log();
    const auto fired = parse_iso8601(str(runs[1].at("planned_at")));
    ASSERT_TRUE(fired);
    EXPECT_EQ(*fired, *missed + 60s);
    // It started at (not before) its planned minute.
    const auto created = parse_iso8601(str(runs[1].at("created_at")));
    ASSERT_TRUE(created);
    EXPECT_GE(*created, *fired);
    EXPECT_LT(*created, *fired + 5s);

    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait(10s), 0);
    EXPECT_EQ(counter(fake.counters(), "creates"), 2);
}

TEST(DaemonSchedule, AFirstStartRunsNothingMissed) {
    temp_dir dir{"daemon-schedule-first"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    config_options options;
    options.policies_yaml = http_policy("weekly", "rs0", "    schedule: \"0 3 * * SUN\"\n");
    const auto config = write_config(dir.path(), fake, options);
    daemon_process daemon(dir.path(), config);
    ASSERT_TRUE(daemon.wait_started()) << daemon.log();
    daemon.signal(SIGTERM);
    ASSERT_EQ(daemon.wait(10s), 0);
    EXPECT_TRUE(runs_of(status_json(config)).empty());
    // The first start recorded when it first saw the policy, for the missed-fire rule next time.
    const auto seen = sql_int(dir.path() / "state" / "atlas-restored.db",
                              "SELECT last_fire FROM schedule_fires WHERE policy = 'weekly'");
    ASSERT_TRUE(seen);
    EXPECT_LE(from_unix_millis(*seen), std::chrono::system_clock::now());
}

}  // namespace
}  // namespace atlas_restored::testing
