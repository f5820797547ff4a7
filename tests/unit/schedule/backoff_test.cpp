#include "schedule/backoff.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace atlas_restored::schedule {
namespace {

using namespace std::chrono_literals;
using clock_type = backoff::clock;

backoff::random_source fixed(double value) {
    return [value] { return value; };
}

TEST(backoff, ceiling_grows_by_the_multiplier_up_to_max) {
    const backoff_config config;  // 1s, x2, 2m, 1h
    const std::vector<std::chrono::nanoseconds> expected = {1s, 2s, 4s, 8s, 16s, 32s, 64s, 120s, 120s};
    for (unsigned attempt = 0; attempt < expected.size(); ++attempt) {
        EXPECT_EQ(backoff_ceiling(config, attempt), expected[attempt]) << attempt;
    }
    EXPECT_EQ(backoff_ceiling(config, 100000), 120s);  // no overflow
    const backoff_config triple{100ms, 3.0, 10s, 1h};
    EXPECT_EQ(backoff_ceiling(triple, 0), 100ms);
    EXPECT_EQ(backoff_ceiling(triple, 2), 900ms);
    EXPECT_EQ(backoff_ceiling(triple, 4), 8100ms);
    EXPECT_EQ(backoff_ceiling(triple, 5), 10s);
}

TEST(backoff, full_jitter_scales_the_ceiling) {
    const backoff_config config;
    EXPECT_EQ(full_jitter_delay(config, 0, 0.0), 0s);
    EXPECT_EQ(full_jitter_delay(config, 0, 0.5), 500ms);
    EXPECT_EQ(full_jitter_delay(config, 3, 0.25), 2s);
    EXPECT_EQ(full_jitter_delay(config, 20, 0.5), 60s);
    EXPECT_LT(full_jitter_delay(config, 0, 1.0), 1s);  // clamped into [0, 1)
    EXPECT_LT(full_jitter_delay(config, 0, 7.0), 1s);
    EXPECT_EQ(full_jitter_delay(config, 0, -1.0), 0s);
}

TEST(backoff, delays_follow_attempts_with_a_fixed_random) {
    backoff b(backoff_config{}, fixed(0.5));
    const auto t0 = clock_type::time_point{} + 1000h;
    std::vector<clock_type::duration> delays;
    auto now = t0;
    for (int i = 0; i < 9; ++i) {
        const auto d = b.next_delay(now);
        ASSERT_TRUE(d);
        delays.push_back(*d);
        now += *d;
    }
    const std::vector<clock_type::duration> expected = {500ms, 1s, 2s, 4s, 8s, 16s, 32s, 60s, 60s};
    EXPECT_EQ(delays, expected);
    EXPECT_EQ(b.attempts(), 9U);
}

TEST(backoff, seeded_delays_stay_within_bounds_and_are_reproducible) {
    backoff a(backoff_config{}, std::uint64_t{42});
    backoff same(backoff_config{}, std::uint64_t{42});
    backoff other(backoff_config{}, std::uint64_t{43});
    const auto now = clock_type::time_point{} + 1000h;
    bool differs = false;
    for (unsigned attempt = 0; attempt < 40; ++attempt) {
        const auto d = a.next_delay(now);
        ASSERT_TRUE(d);
        EXPECT_GE(*d, 0s);
        EXPECT_LT(*d, backoff_ceiling(backoff_config{}, attempt));
        EXPECT_EQ(d, same.next_delay(now));
        differs = differs || d != other.next_delay(now);
    }
    EXPECT_TRUE(differs);
}

TEST(backoff, gives_up_after_the_budget) {
    const backoff_config config{1s, 2.0, 2min, 10s};
    backoff b(config, fixed(0.999999));
    const auto t0 = clock_type::time_point{} + 1000h;
    auto d = b.next_delay(t0);  // the budget starts at the first failure
    ASSERT_TRUE(d);
    EXPECT_GT(*d, 990ms);
    d = b.next_delay(t0 + 1s);
    ASSERT_TRUE(d);
    d = b.next_delay(t0 + 3s);
    ASSERT_TRUE(d);
    EXPECT_GT(*d, 3900ms);
    // 8s into the budget the ceiling is 8s, but only 2s are left: the delay is shortened.
    d = b.next_delay(t0 + 8s);
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, 2s);
    EXPECT_FALSE(b.next_delay(t0 + 10s).has_value());
    EXPECT_FALSE(b.next_delay(t0 + 1h).has_value());
}

TEST(backoff, zero_budget_gives_up_at_once) {
    backoff b(backoff_config{1s, 2.0, 2min, 0s}, fixed(0.5));
    EXPECT_FALSE(b.next_delay(clock_type::time_point{}).has_value());
}

TEST(backoff, retry_after_is_a_floor) {
    backoff b(backoff_config{}, fixed(0.0));
    const auto t0 = clock_type::time_point{} + 1000h;
    EXPECT_EQ(b.next_delay(t0, 30s), 30s);
    EXPECT_EQ(b.next_delay(t0 + 30s), 0s);  // jitter may be zero without a Retry-After
    backoff big(backoff_config{}, fixed(0.5));
    big.next_delay(t0);
    big.next_delay(t0);
    big.next_delay(t0);
    EXPECT_EQ(big.next_delay(t0, 1s), 4s);  // the floor does not lower a larger jittered delay
}

TEST(backoff, retry_after_beyond_the_budget_gives_up) {
    backoff b(backoff_config{1s, 2.0, 2min, 1min}, fixed(0.5));
    const auto t0 = clock_type::time_point{} + 1000h;
    ASSERT_TRUE(b.next_delay(t0));
    EXPECT_EQ(b.next_delay(t0 + 50s, 10s), 10s);
    EXPECT_FALSE(b.next_delay(t0 + 50s, 11s).has_value());
}

TEST(backoff, reset_starts_over) {
    backoff b(backoff_config{1s, 2.0, 2min, 10s}, fixed(0.5));
    const auto t0 = clock_type::time_point{} + 1000h;
    b.next_delay(t0);
    b.next_delay(t0);
    b.next_delay(t0);
    EXPECT_FALSE(b.next_delay(t0 + 11s).has_value());
    b.reset();
    EXPECT_EQ(b.attempts(), 0U);
    EXPECT_EQ(b.next_delay(t0 + 20s), 500ms);  // fresh budget, first attempt again
    EXPECT_EQ(b.attempts(), 1U);
}

TEST(backoff, validate_config) {
    EXPECT_TRUE(validate(backoff_config{}));
    struct bad_case {
        backoff_config config;
        const char* message;
    };
    for (const auto& c : {
             bad_case{{0ms, 2.0, 2min, 1h}, "retry.initial: must be more than 0s, got 0s"},
             bad_case{{1s, 0.5, 2min, 1h}, "retry.multiplier: 0.5 is out of range 1-1000"},
             bad_case{{1s, 5000.0, 2min, 1h}, "retry.multiplier: 5000 is out of range 1-1000"},
             bad_case{{1s, 2.0, 500ms, 1h}, "retry.max: 500ms is less than retry.initial (1s)"},
             bad_case{{1s, 2.0, 2min, -1s}, "retry.give_up_after: must not be negative"},
         }) {
        const auto r = validate(c.config);
        ASSERT_FALSE(r) << c.message;
        EXPECT_EQ(r.error().code, errc::invalid_input);
        EXPECT_EQ(r.error().message, c.message);
    }
}

}  // namespace
}  // namespace atlas_restored::schedule
