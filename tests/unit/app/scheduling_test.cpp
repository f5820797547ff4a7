#include "app/scheduling.hpp"

#include "schedule/time_zone.hpp"
#include "util/time.hpp"

#include <gtest/gtest.h>

#include <random>

namespace atlas_restored::app {
namespace {

using namespace std::chrono_literals;

time_point at(const char* iso) {
    return *parse_iso8601(iso);
}

config::policy scheduled(const std::string& cron, const std::string& zone = "UTC") {
    config::policy p;
    p.name = "drill";
    p.schedule = schedule::cron_expression::parse(cron).value();
    p.timezone = zone;
    p.zone = zone == "UTC" ? schedule::time_zone::utc() : schedule::time_zone::load(zone).value();
    return p;
}

TEST(ScheduleKey, EmptyWithoutScheduleAndChangesWithEveryTimingSetting) {
    config::policy none;
    EXPECT_EQ(schedule_key(none), "");
    const auto base = scheduled("0 3 * * SUN");
    auto other_cron = scheduled("0 4 * * SUN");
    auto other_zone = scheduled("0 3 * * SUN", "Europe/Berlin");
    auto other_jitter = base;
    other_jitter.schedule_jitter = 10min;
    auto other_delivery = base;  // not a timing setting: the timer keeps running
    other_delivery.delivery.method = "AUTOMATED_RESTORE";
    EXPECT_NE(schedule_key(base), "");
    EXPECT_NE(schedule_key(base), schedule_key(other_cron));
    EXPECT_NE(schedule_key(base), schedule_key(other_zone));
    EXPECT_NE(schedule_key(base), schedule_key(other_jitter));
    EXPECT_EQ(schedule_key(base), schedule_key(other_delivery));
}

TEST(NextFire, UsesThePolicysTimeZone) {
    const auto utc = scheduled("0 3 * * *");
    EXPECT_EQ(format_iso8601(*next_fire(utc, at("2026-11-28T12:00:00Z"))), "2026-11-29T03:00:00Z");
    const auto berlin = scheduled("0 3 * * *", "Europe/Berlin");  // CET = UTC+1 in November
    EXPECT_EQ(format_iso8601(*next_fire(berlin, at("2026-11-28T12:00:00Z"))), "2026-11-29T02:00:00Z");
    config::policy none;
    EXPECT_FALSE(next_fire(none, at("2026-11-28T12:00:00Z")));
}

TEST(NextFire, IsStrictlyAfter) {
    const auto p = scheduled("*/5 * * * *");
    EXPECT_EQ(format_iso8601(*next_fire(p, at("2026-11-28T12:05:00Z"))), "2026-11-28T12:10:00Z");
}

TEST(DecideAtStartup, FirstSightingRecordsABaselineAndRunsNothing) {
    const auto p = scheduled("0 3 * * *");
    const auto d = decide_at_startup(p, std::nullopt, at("2026-11-28T12:00:00Z"));
    EXPECT_TRUE(d.record_baseline);
    EXPECT_FALSE(d.run_missed);
}

TEST(DecideAtStartup, UnscheduledPolicyNeedsNothing) {
    config::policy p;
    const auto d = decide_at_startup(p, std::nullopt, at("2026-11-28T12:00:00Z"));
    EXPECT_FALSE(d.record_baseline);
    EXPECT_FALSE(d.run_missed);
}

TEST(DecideAtStartup, ARecentMissedFireRunsOnceWithItsPlannedTime) {
    const auto p = scheduled("0 3 * * *");
    const auto d = decide_at_startup(p, at("2026-11-27T03:00:00Z"), at("2026-11-28T04:30:00Z"));
    EXPECT_FALSE(d.record_baseline);
    ASSERT_TRUE(d.run_missed);
    EXPECT_EQ(format_iso8601(*d.run_missed), "2026-11-28T03:00:00Z");
}

TEST(DecideAtStartup, ManyMissedFiresGiveOneRunNotABurst) {
    const auto p = scheduled("*/10 * * * *");
    // Down for three days: only the latest fire runs.
    const auto d = decide_at_startup(p, at("2026-11-25T12:00:00Z"), at("2026-11-28T12:03:00Z"));
    ASSERT_TRUE(d.run_missed);
    EXPECT_EQ(format_iso8601(*d.run_missed), "2026-11-28T12:00:00Z");
}

TEST(DecideAtStartup, NothingMissedWhenTheLastFireIsTheLatest) {
    const auto p = scheduled("0 3 * * *");
    const auto d = decide_at_startup(p, at("2026-11-28T03:00:00Z"), at("2026-11-28T12:00:00Z"));
    EXPECT_FALSE(d.run_missed);
}

TEST(DecideAtStartup, ConfiguredGraceSkipsAnOldMissedFire) {
    auto p = scheduled("0 3 * * *");
    p.missed_fire_grace = 1h;
    EXPECT_FALSE(decide_at_startup(p, at("2026-11-27T03:00:00Z"), at("2026-11-28T05:00:00Z")).run_missed);
    EXPECT_TRUE(decide_at_startup(p, at("2026-11-27T03:00:00Z"), at("2026-11-28T03:30:00Z")).run_missed);
    p.missed_fire_grace = 0ms;  // never catch up
    EXPECT_FALSE(decide_at_startup(p, at("2026-11-27T03:00:00Z"), at("2026-11-28T03:00:01Z")).run_missed);
}

TEST(JitterDelay, ZeroBoundIsNoDelay) {
    EXPECT_EQ(jitter_delay(0ms, 12345), 0ms);
    EXPECT_EQ(jitter_delay(-5ms, 12345), 0ms);
}

TEST(JitterDelay, StaysWithinTheBoundAndSpreadsOverIt) {
    std::mt19937_64 rng(7);
    const auto bound = std::chrono::milliseconds(10min);
    std::chrono::milliseconds low = bound, high = 0ms;
    for (int i = 0; i < 2000; ++i) {
        const auto d = jitter_delay(bound, rng());
        ASSERT_GE(d, 0ms);
        ASSERT_LE(d, bound);
        low = std::min(low, d);
        high = std::max(high, d);
    }
    // Uniform over ten minutes: 2000 draws reach both ends' first and last 5%.
    EXPECT_LT(low, 30s);
    EXPECT_GT(high, bound - 30s);
    EXPECT_EQ(jitter_delay(1000ms, 1000), 1000ms);  // the bound itself is included
    EXPECT_EQ(jitter_delay(1000ms, 1001), 0ms);
}

TEST(PendingTriggers, OnlyUnconsumedValuesInConfigurationOrder) {
    config::configuration c;
    for (const char* name : {"a", "b", "c", "d"}) {
        config::policy p;
        p.name = name;
        c.policies.push_back(p);
    }
    c.policies[0].trigger = "INC-1";
    c.policies[1].trigger = "INC-2";
    c.policies[3].trigger = "INC-4";
    std::vector<std::pair<std::string, std::string>> asked;
    const auto pending = pending_triggers(c, [&](const std::string& policy, const std::string& value) {
        asked.emplace_back(policy, value);
        return policy == "b";  // b's INC-2 already ran
    });
    ASSERT_EQ(pending.size(), 2u);
    EXPECT_EQ(pending[0]->name, "a");
    EXPECT_EQ(pending[1]->name, "d");
    EXPECT_EQ(asked.size(), 3u);  // policies without a trigger are not even looked up
}

}  // namespace
}  // namespace atlas_restored::app
