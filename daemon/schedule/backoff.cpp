#include "schedule/backoff.hpp"

#include "schedule/duration.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <sstream>

namespace atlas_restored::schedule {

result<void> validate(const backoff_config& config) {
    auto fail = [](std::string message) -> result<void> {
        return make_error(errc::invalid_input, std::move(message));
    };
    if (config.initial <= std::chrono::milliseconds::zero()) {
        return fail("retry.initial: must be more than 0s, got " + format_duration(config.initial));
    }
    if (!(config.multiplier >= 1.0) || config.multiplier > 1000.0) {  // also refuses NaN
        std::ostringstream text;
        text << config.multiplier;
        return fail("retry.multiplier: " + text.str() + " is out of range 1-1000");
    }
    if (config.max < config.initial) {
        return fail("retry.max: " + format_duration(config.max) + " is less than retry.initial (" +
                    format_duration(config.initial) + ")");
    }
    if (config.give_up_after < std::chrono::milliseconds::zero()) {
        return fail("retry.give_up_after: must not be negative");
    }
    return {};
}

std::chrono::nanoseconds backoff_ceiling(const backoff_config& config, unsigned attempt) {
    const auto max = std::chrono::duration_cast<std::chrono::nanoseconds>(config.max);
    const double initial = static_cast<double>(std::chrono::nanoseconds(config.initial).count());
    const double grown = initial * std::pow(std::max(config.multiplier, 1.0), static_cast<double>(attempt));
    // Compare in double: the product overflows any integer type after a few dozen attempts.
    if (!(grown < static_cast<double>(max.count()))) {
        return max;
    }
    return std::chrono::nanoseconds(static_cast<std::int64_t>(grown));
}

std::chrono::nanoseconds full_jitter_delay(const backoff_config& config, unsigned attempt, double random01) {
    if (!(random01 >= 0.0)) {  // negative or NaN
        random01 = 0.0;
    }
    random01 = std::min(random01, std::nextafter(1.0, 0.0));
    const double ceiling = static_cast<double>(backoff_ceiling(config, attempt).count());
    return std::chrono::nanoseconds(static_cast<std::int64_t>(ceiling * random01));
}

backoff::backoff(backoff_config config, random_source random) : config_(config), random_(std::move(random)) {}

backoff::backoff(backoff_config config, std::uint64_t seed) : config_(config) {
    auto engine = std::make_shared<std::mt19937_64>(seed);
    random_ = [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

std::optional<backoff::clock::duration> backoff::next_delay(clock::time_point now,
                                                            std::optional<clock::duration> retry_after) {
    if (!started_) {
        started_ = now;
    }
    const clock::duration budget = config_.give_up_after;
    const clock::duration remaining = budget - (now - *started_);
    if (remaining <= clock::duration::zero()) {
        return std::nullopt;
    }
    clock::duration delay = full_jitter_delay(config_, attempt_, random_ ? random_() : 0.0);
    if (retry_after && *retry_after > delay) {
        delay = *retry_after;
    }
    if (delay > remaining) {
        if (retry_after && *retry_after > remaining) {
            return std::nullopt;  // the server will not take us back before the budget ends
        }
        delay = remaining;
    }
    if (attempt_ < std::numeric_limits<unsigned>::max()) {
        ++attempt_;
    }
    return delay;
}

void backoff::reset() {
    attempt_ = 0;
    started_.reset();
}

}  // namespace atlas_restored::schedule
