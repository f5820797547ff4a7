#pragma once
// Exponential backoff with "full jitter" (AWS architecture blog): the n-th retry (n from 0)
// waits random_between(0, min(max, initial * multiplier^n)), and retrying stops once
// give_up_after has passed since the first failure. Jitter spreads the retries of many runs
// that failed together. Pure: `now` and the random source are injected.

#include "util/error.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

namespace atlas_restored::schedule {

// The YAML `retry:` section: { initial: 1s, multiplier: 2, max: 2m, give_up_after: 1h }.
struct backoff_config {
    std::chrono::milliseconds initial{1000};
    double multiplier = 2.0;
    std::chrono::milliseconds max{std::chrono::minutes(2)};
    std::chrono::milliseconds give_up_after{std::chrono::hours(1)};
};

// initial > 0, 1 <= multiplier <= 1000, max >= initial, give_up_after >= 0. Errors are
// errc::invalid_input naming the key, e.g. "retry.multiplier: 0.5 is less than 1".
result<void> validate(const backoff_config& config);

// min(max, initial * multiplier^attempt): the upper bound of the attempt's delay.
std::chrono::nanoseconds backoff_ceiling(const backoff_config& config, unsigned attempt);

// The full-jitter delay for a random number in [0, 1) (clamped into it).
std::chrono::nanoseconds full_jitter_delay(const backoff_config& config, unsigned attempt, double random01);

class backoff {
  public:
    using clock = std::chrono::steady_clock;
    using random_source = std::function<double()>;  // uniform in [0, 1)

    backoff(backoff_config config, random_source random);
    // A std::mt19937_64 seeded with `seed`.
    backoff(backoff_config config, std::uint64_t seed);

    // Call after a failure: how long to wait before the next attempt, or nullopt to give up.
    // The first call after construction or reset() starts the give_up_after budget at `now`.
    // retry_after (a server's Retry-After) is a floor on the delay. A delay is shortened so that
    // the next attempt happens no later than the end of the budget; if Retry-After forbids
    // retrying before the budget ends, the answer is nullopt.
    std::optional<clock::duration> next_delay(clock::time_point now,
                                              std::optional<clock::duration> retry_after = std::nullopt);

    // After a success: the next failure starts again from `initial` with a fresh budget.
    void reset();

    // Delays handed out since the last reset.
    unsigned attempts() const { return attempt_; }
    const backoff_config& config() const { return config_; }

  private:
    backoff_config config_;
    random_source random_;
    unsigned attempt_ = 0;
    std::optional<clock::time_point> started_;
};

}  // namespace atlas_restored::schedule
