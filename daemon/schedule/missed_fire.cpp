#include "schedule/missed_fire.hpp"

#include <algorithm>

namespace atlas_restored::schedule {

std::optional<std::chrono::system_clock::time_point> latest_fire_between(
    const cron_expression& schedule,
    const time_zone* zone,
    std::chrono::system_clock::time_point after,
    std::chrono::system_clock::time_point until) {
    using std::chrono::system_clock;
    if (until <= after) {
        return std::nullopt;
    }
    // Every valid schedule fires at least every 8 years (February 29), so looking further back
    // changes nothing; the clamp also keeps "never seen" (time_point::min()) from overflowing.
    const auto horizon = std::chrono::hours(24 * 366 * 9);
    if (until > system_clock::time_point::min() + horizon && after < until - horizon) {
        after = until - horizon;
    }
    auto fires_by_until = [&](system_clock::time_point from) {
        const auto next = schedule.next_after(from, zone);
        return next && *next <= until;
    };
    if (!fires_by_until(after)) {
        return std::nullopt;
    }
    // Find a window (until - width, until] that holds a fire by doubling its width, then narrow
    // it by bisection: `lo` always has a fire in (lo, until], `hi` never does.
    system_clock::time_point lo = after;
    system_clock::time_point hi = until;
    for (system_clock::duration width = std::chrono::minutes(1); until - after > width; width *= 2) {
        if (fires_by_until(until - width)) {
            lo = until - width;
            break;
        }
        hi = until - width;
    }
    while (hi - lo > std::chrono::seconds(1)) {
        const auto mid = lo + (hi - lo) / 2;
        (fires_by_until(mid) ? lo : hi) = mid;
    }
    // (lo, hi] is at most a second wide and fire times are whole seconds, so the fire after lo
    // is the last one; the loop only guards against that reasoning being wrong.
    auto latest = *schedule.next_after(lo, zone);
    for (int i = 0; i < 4; ++i) {
        const auto next = schedule.next_after(latest, zone);
        if (!next || *next > until) {
            break;
        }
        latest = *next;
    }
    return latest;
}

std::optional<std::chrono::system_clock::time_point> missed_fire_to_run(
    const cron_expression& schedule,
    const time_zone* zone,
    std::chrono::system_clock::time_point last_fire_or_last_seen,
    std::chrono::system_clock::time_point now,
    std::optional<std::chrono::seconds> grace) {
    const auto missed = latest_fire_between(schedule, zone, last_fire_or_last_seen, now);
    if (!missed) {
        return std::nullopt;
    }
    std::chrono::system_clock::duration allowed = std::chrono::system_clock::duration::max();
    if (grace) {
        allowed = *grace;
    } else if (const auto next = schedule.next_after(*missed, zone)) {
        allowed = *next - *missed;
    }
    if (now - *missed < allowed) {
        return missed;
    }
    return std::nullopt;
}

}  // namespace atlas_restored::schedule
