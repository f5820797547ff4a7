#pragma once
// Client-side rate limiting: token buckets, one per key (per project, per profile), so the
// daemon stays under Atlas's limits instead of collecting 429s. On-call requests come first: a
// drill may not take the last tokens of a bucket (the reserve), an on-call request may. Pure:
// nothing sleeps here; callers are told how long to wait.

#include "util/error.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace atlas_restored::schedule {

enum class priority {
    drill,    // scheduled or manual drill: leaves the reserve alone
    on_call,  // started by a policy's `trigger`: may use the whole bucket
};

struct rate_limit_config {
    double capacity = 100;           // tokens when full (the burst size); at least 1
    double refill_per_minute = 100;  // e.g. atlas.requests_per_minute; more than 0
    double drill_reserve = 0.2;      // fraction of capacity drills must leave, [0, 1)
};

// capacity >= 1, refill_per_minute > 0, 0 <= drill_reserve < 1; errors are errc::invalid_input.
result<void> validate(const rate_limit_config& config);

class token_bucket {
  public:
    using clock = std::chrono::steady_clock;

    // Starts full.
    token_bucket(rate_limit_config config, clock::time_point now);

    // Takes one token and returns nullopt ("go ahead"), or takes nothing and returns how long
    // to wait until a token is available for this priority (assuming nobody else takes it).
    // An on-call request needs one token; a drill needs one more than the reserve
    // (drill_reserve * capacity), capped at the capacity.
    std::optional<clock::duration> try_acquire(clock::time_point now, priority p = priority::on_call);

    // The server answered 429 (or 503) with Retry-After: the bucket goes empty (into debt), so
    // that the first token appears at now + retry_after (or, for a Retry-After shorter than one
    // refill interval, when an empty bucket has refilled one token), at the normal rate after.
    void penalize(clock::time_point now, clock::duration retry_after);

    // Tokens now (negative while a penalty lasts). For metrics and tests.
    double tokens(clock::time_point now) const;

    // A new configuration (a reload): tokens are kept, capped at the new capacity.
    void reconfigure(rate_limit_config config, clock::time_point now);

    const rate_limit_config& config() const { return config_; }

  private:
    void refill(clock::time_point now);
    double rate_per_ns() const { return config_.refill_per_minute / 60e9; }

    rate_limit_config config_;
    double tokens_;
    clock::time_point updated_;
};

// Buckets by key, created full on first use.
class rate_limiter_set {
  public:
    using clock = token_bucket::clock;

    explicit rate_limiter_set(rate_limit_config default_config);

    // The key's bucket, created with the default configuration if new.
    token_bucket& bucket(std::string_view key, clock::time_point now);
    // Sets a key's configuration, creating its bucket if new (tokens kept otherwise).
    void configure(std::string_view key, rate_limit_config config, clock::time_point now);

    std::optional<clock::duration> try_acquire(std::string_view key,
                                               clock::time_point now,
                                               priority p = priority::on_call);
    void penalize(std::string_view key, clock::time_point now, clock::duration retry_after);

    std::size_t size() const { return buckets_.size(); }
    bool contains(std::string_view key) const { return buckets_.find(key) != buckets_.end(); }

  private:
    rate_limit_config default_config_;
    std::map<std::string, token_bucket, std::less<>> buckets_;
};

}  // namespace atlas_restored::schedule
