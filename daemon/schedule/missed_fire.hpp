#pragma once
// What to do on start-up about fire times that passed while the daemon was down: run the latest
// one once if it is recent enough, never a burst of catch-up runs.

#include "schedule/cron.hpp"

#include <chrono>
#include <optional>

namespace atlas_restored::schedule {

// The latest fire time F of `schedule` with last_fire_or_last_seen < F <= now, if
// now - F < grace; otherwise (or when nothing fired in that window) nullopt. Only one time is
// ever returned, however many fires were missed.
//
// The default grace (nullopt) is one schedule period: the gap from F to the fire after it.
// Since F is the latest fire not after `now`, the next one is after `now`, so with the default
// the latest missed fire always runs; a configured grace (e.g. 1h) is what makes an old missed
// fire be skipped. A grace of zero never runs a missed fire.
std::optional<std::chrono::system_clock::time_point> missed_fire_to_run(
    const cron_expression& schedule,
    const time_zone* zone,
    std::chrono::system_clock::time_point last_fire_or_last_seen,
    std::chrono::system_clock::time_point now,
    std::optional<std::chrono::seconds> grace = std::nullopt);

// The latest fire time F with after < F <= until, or nullopt. Does not enumerate every fire in
// between (a per-minute schedule and a year of downtime are fine).
std::optional<std::chrono::system_clock::time_point> latest_fire_between(
    const cron_expression& schedule,
    const time_zone* zone,
    std::chrono::system_clock::time_point after,
    std::chrono::system_clock::time_point until);

}  // namespace atlas_restored::schedule
