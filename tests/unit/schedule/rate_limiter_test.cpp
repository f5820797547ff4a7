#include "schedule/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace atlas_restored::schedule {
namespace {

using namespace std::chrono_literals;
using clock_type = token_bucket::clock;

const auto t0 = clock_type::time_point{} + 1000h;

// 10 tokens, one every 6 seconds, drills leave 2 tokens.
constexpr rate_limit_config ten_per_minute{10, 10, 0.2};

TEST(token_bucket, starts_full_and_then_says_how_long_to_wait) {
    token_bucket bucket(ten_per_minute, t0);
    EXPECT_DOUBLE_EQ(bucket.tokens(t0), 10.0);
    for (int i = 0; i < 10; ++i) {
        EXPECT_FALSE(bucket.try_acquire(t0).has_value()) << i;
    }
    EXPECT_EQ(bucket.try_acquire(t0), clock_type::duration(6s));
    EXPECT_EQ(bucket.try_acquire(t0 + 2s), clock_type::duration(4s));  // a failed try takes nothing
    EXPECT_FALSE(bucket.try_acquire(t0 + 6s).has_value());
    EXPECT_EQ(bucket.try_acquire(t0 + 6s), clock_type::duration(6s));
}

TEST(token_bucket, refills_at_the_configured_rate_up_to_capacity) {
    token_bucket bucket(rate_limit_config{60, 120, 0.2}, t0);  // two tokens a second
    for (int i = 0; i < 60; ++i) {
        ASSERT_FALSE(bucket.try_acquire(t0).has_value());
    }
    EXPECT_NEAR(bucket.tokens(t0 + 250ms), 0.5, 1e-9);
    EXPECT_NEAR(bucket.tokens(t0 + 10s), 20.0, 1e-9);
    EXPECT_DOUBLE_EQ(bucket.tokens(t0 + 1h), 60.0);  // never above capacity
    EXPECT_EQ(bucket.try_acquire(t0 + 250ms), clock_type::duration(250ms));
    // Waiting exactly the answer always works, despite floating point.
    auto now = t0 + 250ms;
    for (int i = 0; i < 1000; ++i) {
        const auto wait = bucket.try_acquire(now);
        if (wait) {
            now += *wait;
            ASSERT_FALSE(bucket.try_acquire(now).has_value()) << i;
        }
    }
}

TEST(token_bucket, time_going_backwards_adds_nothing) {
    token_bucket bucket(ten_per_minute, t0);
    for (int i = 0; i < 10; ++i) {
        bucket.try_acquire(t0);
    }
    EXPECT_TRUE(bucket.try_acquire(t0 - 1h).has_value());
    EXPECT_NEAR(bucket.tokens(t0), 0.0, 1e-9);
}

TEST(token_bucket, drills_leave_a_reserve_for_on_call) {
    token_bucket bucket(ten_per_minute, t0);
    int drills = 0;
    while (!bucket.try_acquire(t0, priority::drill).has_value()) {
        ++drills;
        ASSERT_LT(drills, 100);
    }
    EXPECT_EQ(drills, 8);  // 20% of 10 stays for on-call
    EXPECT_EQ(bucket.try_acquire(t0, priority::drill), clock_type::duration(6s));
    EXPECT_FALSE(bucket.try_acquire(t0, priority::on_call).has_value());
    EXPECT_FALSE(bucket.try_acquire(t0, priority::on_call).has_value());
    EXPECT_EQ(bucket.try_acquire(t0, priority::on_call), clock_type::duration(6s));
    EXPECT_EQ(bucket.try_acquire(t0, priority::drill), clock_type::duration(18s));  // needs 3 tokens
}

TEST(token_bucket, tiny_bucket_lets_drills_through) {
    token_bucket bucket(rate_limit_config{1, 60, 0.2}, t0);
    EXPECT_FALSE(bucket.try_acquire(t0, priority::drill).has_value());
    EXPECT_EQ(bucket.try_acquire(t0, priority::drill), clock_type::duration(1s));
}

TEST(token_bucket, penalize_empties_the_bucket_until_retry_after) {
    token_bucket bucket(ten_per_minute, t0);
    bucket.penalize(t0, 30s);
    EXPECT_EQ(bucket.try_acquire(t0), clock_type::duration(30s));
    EXPECT_EQ(bucket.try_acquire(t0 + 29s), clock_type::duration(1s));
    // Drills need the reserve as well: two more tokens, 12 more seconds.
    EXPECT_EQ(bucket.try_acquire(t0 + 30s, priority::drill), clock_type::duration(12s));
    EXPECT_FALSE(bucket.try_acquire(t0 + 30s).has_value());
    EXPECT_EQ(bucket.try_acquire(t0 + 30s), clock_type::duration(6s));  // then the normal rate
}

TEST(token_bucket, penalize_never_adds_tokens) {
    token_bucket bucket(ten_per_minute, t0);
    bucket.penalize(t0, 60s);
    bucket.penalize(t0 + 1s, 1s);  // a shorter Retry-After does not shorten the first
    EXPECT_EQ(bucket.try_acquire(t0 + 1s), clock_type::duration(59s));
    token_bucket other(ten_per_minute, t0);
    other.penalize(t0, 0s);
    EXPECT_LE(other.tokens(t0), 0.0);
    EXPECT_EQ(other.try_acquire(t0), clock_type::duration(6s));
}

TEST(token_bucket, reconfigure_keeps_tokens_within_the_new_capacity) {
    token_bucket bucket(ten_per_minute, t0);
    bucket.reconfigure(rate_limit_config{4, 60, 0.2}, t0);
    EXPECT_DOUBLE_EQ(bucket.tokens(t0), 4.0);
    bucket.reconfigure(rate_limit_config{100, 60, 0.2}, t0);
    EXPECT_DOUBLE_EQ(bucket.tokens(t0), 4.0);
    EXPECT_NEAR(bucket.tokens(t0 + 10s), 14.0, 1e-9);
}

TEST(rate_limiter_set, buckets_are_created_on_demand_and_independent) {
    rate_limiter_set set(rate_limit_config{2, 60, 0.0});
    EXPECT_EQ(set.size(), 0U);
    EXPECT_FALSE(set.contains("project-a"));
    EXPECT_FALSE(set.try_acquire("project-a", t0).has_value());
    EXPECT_FALSE(set.try_acquire("project-a", t0).has_value());
    EXPECT_EQ(set.try_acquire("project-a", t0), clock_type::duration(1s));
    EXPECT_FALSE(set.try_acquire("project-b", t0).has_value());
    EXPECT_EQ(set.size(), 2U);
    EXPECT_TRUE(set.contains("project-a"));

    set.penalize("project-b", t0, 10s);
    EXPECT_EQ(set.try_acquire("project-b", t0), clock_type::duration(10s));
    EXPECT_EQ(set.try_acquire("project-a", t0 + 1s), std::nullopt);

    set.configure("profile:payments", rate_limit_config{5, 60, 0.0}, t0);
    for (int i = 0; i < 5; ++i) {
        EXPECT_FALSE(set.try_acquire("profile:payments", t0).has_value());
    }
    EXPECT_TRUE(set.try_acquire("profile:payments", t0).has_value());
    EXPECT_DOUBLE_EQ(set.bucket("project-c", t0).tokens(t0), 2.0);
    EXPECT_EQ(set.size(), 4U);
}

TEST(rate_limit_config, validate) {
    EXPECT_TRUE(validate(rate_limit_config{}));
    EXPECT_FALSE(validate(rate_limit_config{0.5, 60, 0.2}));
    EXPECT_FALSE(validate(rate_limit_config{10, 0, 0.2}));
    EXPECT_FALSE(validate(rate_limit_config{10, -1, 0.2}));
    EXPECT_FALSE(validate(rate_limit_config{10, 60, 1.0}));
    EXPECT_FALSE(validate(rate_limit_config{10, 60, -0.1}));
    const auto r = validate(rate_limit_config{10, 0, 0.2});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_input);
    EXPECT_EQ(r.error().message, "requests_per_minute: 0 must be more than 0");
}

}  // namespace
}  // namespace atlas_restored::schedule
