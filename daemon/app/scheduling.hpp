#pragma once
// When runs start (SPEC §2 schedule, schedule_jitter, trigger; issue 3 missed fires): pure
// decisions that take `now` and the durable bookkeeping as parameters. The daemon's timers and
// the engine act on them (app/service.cpp).

#include "config/config.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace atlas_restored::app {

using time_point = std::chrono::system_clock::time_point;

// What a policy's timer depends on: cron text, time zone and jitter. A reload that leaves the key
// unchanged keeps the running timer (so a fire waiting out its jitter is not lost); any change
// restarts it. Empty for a policy without a schedule.
std::string schedule_key(const config::policy& p);

// The next planned fire strictly after `after`, in the policy's time zone; nullopt without a
// schedule or when the expression never fires again.
std::optional<time_point> next_fire(const config::policy& p, time_point after);

// What to do about a scheduled policy when the daemon starts (or first sees the policy).
struct startup_decision {
    // No fire has ever been recorded: store `now` as the policy's last fire, so fires missed
    // during a later downtime are measured from the moment the daemon first saw the policy.
    bool record_baseline = false;
    // The one missed fire to run now (never more than one: no burst), its planned time.
    std::optional<time_point> run_missed;
};

// last_fire: the policy's durable last fire (or baseline), nullopt if none. Applies
// missed_fire_to_run with the policy's missed_fire_grace (unset: one schedule period).
startup_decision decide_at_startup(const config::policy& p,
                                   std::optional<time_point> last_fire,
                                   time_point now);

// A uniformly distributed delay in [0, bound] from 64 random bits (the caller's generator).
std::chrono::milliseconds jitter_delay(std::chrono::milliseconds bound, std::uint64_t random_bits);

// Policies of `c` whose trigger value has not run yet, in configuration order: the runs a start
// or a successful reload begins.
std::vector<const config::policy*> pending_triggers(
    const config::configuration& c,
    const std::function<bool(const std::string& policy, const std::string& value)>& is_consumed);

}  // namespace atlas_restored::app
