#include "schedule/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace atlas_restored::schedule {
namespace {

// Token counts are doubles. So that waiting exactly the returned time always succeeds despite
// rounding, a request succeeds when it is short by less than one nanosecond of refill, and waits
// are rounded to the nearest nanosecond (a 6 s wait is 6 s, not 6 s + 1 ns).
constexpr double slack_ns = 1.0;

std::string number(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
}

}  // namespace

result<void> validate(const rate_limit_config& config) {
    if (!(config.capacity >= 1.0) || !std::isfinite(config.capacity)) {
        return make_error(errc::invalid_input,
                          "rate limit capacity " + number(config.capacity) + " is less than 1");
    }
    if (!(config.refill_per_minute > 0.0) || !std::isfinite(config.refill_per_minute)) {
        return make_error(
            errc::invalid_input,
            "requests_per_minute: " + number(config.refill_per_minute) + " must be more than 0");
    }
    if (!(config.drill_reserve >= 0.0 && config.drill_reserve < 1.0)) {
        return make_error(
            errc::invalid_input,
            "rate limit drill reserve " + number(config.drill_reserve) + " is out of range [0, 1)");
    }
    return {};
}

token_bucket::token_bucket(rate_limit_config config, clock::time_point now)
    : config_(config), tokens_(config.capacity), updated_(now) {}

void token_bucket::refill(clock::time_point now) {
    if (now <= updated_) {
        return;  // time never runs backwards for the bucket
    }
    const double elapsed = static_cast<double>((now - updated_).count());
    tokens_ = std::min(config_.capacity, tokens_ + elapsed * rate_per_ns());
    updated_ = now;
}

double token_bucket::tokens(clock::time_point now) const {
    if (now <= updated_) {
        return tokens_;
    }
    const double elapsed = static_cast<double>((now - updated_).count());
    return std::min(config_.capacity, tokens_ + elapsed * rate_per_ns());
}

std::optional<token_bucket::clock::duration> token_bucket::try_acquire(clock::time_point now, priority p) {
    refill(now);
    // In a bucket too small for the reserve (capacity < 1 / (1 - reserve)) drills may use it all
    // rather than starve.
    const double drill_need = std::min(config_.capacity, 1.0 + config_.drill_reserve * config_.capacity);
    const double need = p == priority::on_call ? 1.0 : std::max(1.0, drill_need);
    if (tokens_ + slack_ns * rate_per_ns() >= need) {
        tokens_ -= 1.0;
        return std::nullopt;
    }
    // Capped at ~30 years so that an absurdly slow rate cannot overflow the duration.
    const double wait_ns = std::clamp(std::ceil((need - tokens_) / rate_per_ns() - 0.5), 1.0, 1e18);
    return clock::duration(static_cast<clock::duration::rep>(wait_ns));
}

void token_bucket::penalize(clock::time_point now, clock::duration retry_after) {
    refill(now);
    if (retry_after < clock::duration::zero()) {
        retry_after = clock::duration::zero();
    }
    // Going into debt makes the first token appear exactly when the server said to come back.
    const double at_deadline = 1.0 - static_cast<double>(retry_after.count()) * rate_per_ns();
    tokens_ = std::min({tokens_, at_deadline, 0.0});
}

void token_bucket::reconfigure(rate_limit_config config, clock::time_point now) {
    refill(now);
    config_ = config;
    tokens_ = std::min(tokens_, config_.capacity);
}

rate_limiter_set::rate_limiter_set(rate_limit_config default_config) : default_config_(default_config) {}

token_bucket& rate_limiter_set::bucket(std::string_view key, clock::time_point now) {
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
        it = buckets_.emplace(std::string(key), token_bucket(default_config_, now)).first;
    }
    return it->second;
}

void rate_limiter_set::configure(std::string_view key, rate_limit_config config, clock::time_point now) {
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
        buckets_.emplace(std::string(key), token_bucket(config, now));
    } else {
        it->second.reconfigure(config, now);
    }
}

std::optional<rate_limiter_set::clock::duration> rate_limiter_set::try_acquire(std::string_view key,
                                                                               clock::time_point now,
                                                                               priority p) {
    return bucket(key, now).try_acquire(now, p);
}

void rate_limiter_set::penalize(std::string_view key, clock::time_point now, clock::duration retry_after) {
    bucket(key, now).penalize(now, retry_after);
}

}  // namespace atlas_restored::schedule
