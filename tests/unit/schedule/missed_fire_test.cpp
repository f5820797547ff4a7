#include "schedule/missed_fire.hpp"

#include "schedule/time_zone.hpp"
#include "test_time.hpp"

#include <gtest/gtest.h>

namespace atlas_restored::schedule {
namespace {

using namespace std::chrono_literals;
using test::iso;
using test::utc;
using test::zone;

cron_expression cron(const char* text) {
    return *cron_expression::parse(text);
}

TEST(missed_fire, just_missed_runs_once) {
    const auto daily = cron("0 3 * * *");
    EXPECT_EQ(iso(missed_fire_to_run(daily, nullptr, utc(2024, 5, 1, 2), utc(2024, 5, 1, 5))),
              "2024-05-01T03:00:00Z");
}

TEST(missed_fire, several_missed_give_only_the_latest) {
    const auto daily = cron("0 3 * * *");
    EXPECT_EQ(iso(missed_fire_to_run(daily, nullptr, utc(2024, 5, 1, 2), utc(2024, 5, 4, 5))),
              "2024-05-04T03:00:00Z");
    const auto every_minute = cron("* * * * *");
    EXPECT_EQ(iso(missed_fire_to_run(every_minute, nullptr, utc(2023, 5, 1), utc(2024, 5, 1, 12, 34, 56))),
              "2024-05-01T12:34:00Z");
}

TEST(missed_fire, too_late_for_the_grace_runs_nothing) {
    const auto daily = cron("0 3 * * *");
    const auto last_seen = utc(2024, 5, 1, 2);
    const auto now = utc(2024, 5, 1, 5);  // two hours after the missed fire
    EXPECT_FALSE(missed_fire_to_run(daily, nullptr, last_seen, now, 1h).has_value());
    EXPECT_FALSE(missed_fire_to_run(daily, nullptr, last_seen, now, 2h).has_value());  // "less than"
    EXPECT_EQ(iso(missed_fire_to_run(daily, nullptr, last_seen, now, 2h + 1s)), "2024-05-01T03:00:00Z");
    EXPECT_FALSE(missed_fire_to_run(daily, nullptr, last_seen, now, 0s).has_value());
}

TEST(missed_fire, default_grace_is_one_period) {
    // The latest missed fire is always less than one period old (the next fire is still ahead),
    // so by default it runs, however long the daemon was down.
    const auto weekly = cron("0 3 * * SUN");
    EXPECT_EQ(iso(missed_fire_to_run(weekly, nullptr, utc(2024, 1, 1), utc(2024, 5, 18, 23))),
              "2024-05-12T03:00:00Z");
    // An irregular schedule: Tuesday's fire, five days late, is within the six days to Monday.
    const auto mon_tue = cron("0 3 * * MON,TUE");
    EXPECT_EQ(iso(missed_fire_to_run(mon_tue, nullptr, utc(2024, 5, 6, 12), utc(2024, 5, 12, 3))),
              "2024-05-07T03:00:00Z");
}

TEST(missed_fire, nothing_missed) {
    const auto daily = cron("0 3 * * *");
    // The last fire was seen; the next is still ahead.
    EXPECT_FALSE(missed_fire_to_run(daily, nullptr, utc(2024, 5, 1, 3), utc(2024, 5, 1, 5)).has_value());
    EXPECT_FALSE(
        missed_fire_to_run(daily, nullptr, utc(2024, 5, 1, 3, 30), utc(2024, 5, 2, 2, 59)).has_value());
    // A clock that went backwards.
    EXPECT_FALSE(missed_fire_to_run(daily, nullptr, utc(2024, 5, 2), utc(2024, 5, 1)).has_value());
    // A schedule that never fires.
    EXPECT_FALSE(
        missed_fire_to_run(cron("0 0 30 2 *"), nullptr, utc(2020, 1, 1), utc(2024, 5, 1)).has_value());
}

TEST(missed_fire, window_is_open_at_last_seen_and_closed_at_now) {
    const auto daily = cron("0 3 * * *");
    EXPECT_EQ(iso(missed_fire_to_run(daily, nullptr, utc(2024, 5, 1, 2), utc(2024, 5, 1, 3))),
              "2024-05-01T03:00:00Z");
    EXPECT_FALSE(
        missed_fire_to_run(daily, nullptr, utc(2024, 5, 1, 3), utc(2024, 5, 1, 3, 0, 1)).has_value());
}

TEST(missed_fire, never_seen_looks_back_at_most_to_the_latest_fire) {
    const auto daily = cron("0 3 * * *");
    EXPECT_EQ(iso(missed_fire_to_run(
                  daily, nullptr, std::chrono::system_clock::time_point::min(), utc(2024, 5, 1, 5))),
              "2024-05-01T03:00:00Z");
}

TEST(missed_fire, in_a_time_zone) {
    const auto berlin = zone("Europe/Berlin");
    // 02:30 on spring-forward day became 03:00 CEST (01:00 UTC).
    EXPECT_EQ(
        iso(missed_fire_to_run(cron("30 2 * * *"), berlin.get(), utc(2024, 3, 30, 12), utc(2024, 3, 31, 6))),
        "2024-03-31T01:00:00Z");
    EXPECT_EQ(
        iso(missed_fire_to_run(cron("0 3 * * *"), berlin.get(), utc(2024, 7, 1), utc(2024, 7, 3, 9), 9h)),
        "2024-07-03T01:00:00Z");
    EXPECT_FALSE(missed_fire_to_run(cron("0 3 * * *"), berlin.get(), utc(2024, 7, 1), utc(2024, 7, 3, 9), 8h)
                     .has_value());
}

TEST(latest_fire_between, finds_the_last_fire_in_the_window) {
    const auto expr = cron("*/10 9-17 * * MON-FRI");
    EXPECT_EQ(iso(latest_fire_between(expr, nullptr, utc(2024, 5, 1), utc(2024, 5, 6, 8))),  // Monday morning
              "2024-05-03T17:50:00Z");
    EXPECT_EQ(iso(latest_fire_between(expr, nullptr, utc(2024, 5, 6, 9, 5), utc(2024, 5, 6, 9, 20))),
              "2024-05-06T09:20:00Z");
    EXPECT_FALSE(
        latest_fire_between(expr, nullptr, utc(2024, 5, 6, 9, 20), utc(2024, 5, 6, 9, 29, 59)).has_value());
    const auto leap = cron("0 0 29 2 *");
    EXPECT_EQ(iso(latest_fire_between(leap, nullptr, utc(2000, 1, 1), utc(2030, 1, 1))),
              "2028-02-29T00:00:00Z");
}

}  // namespace
}  // namespace atlas_restored::schedule
