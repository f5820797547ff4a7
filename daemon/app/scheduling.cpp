#include "app/scheduling.hpp"

#include "schedule/missed_fire.hpp"
#include "schedule/time_zone.hpp"

namespace atlas_restored::app {

std::string schedule_key(const config::policy& p) {
    if (!p.schedule) {
        return {};
    }
    return p.schedule->text() + "|" + p.timezone + "|" + std::to_string(p.schedule_jitter.count());
}

std::optional<time_point> next_fire(const config::policy& p, time_point after) {
    if (!p.schedule) {
        return std::nullopt;
    }
    return p.schedule->next_after(after, p.zone.get());
}

startup_decision decide_at_startup(const config::policy& p,
                                   std::optional<time_point> last_fire,
                                   time_point now) {
    startup_decision d;
    if (!p.schedule) {
        return d;
    }
    if (!last_fire) {
        d.record_baseline = true;
        return d;
    }
    std::optional<std::chrono::seconds> grace;
    if (p.missed_fire_grace) {
        grace = std::chrono::duration_cast<std::chrono::seconds>(*p.missed_fire_grace);
    }
    d.run_missed = schedule::missed_fire_to_run(*p.schedule, p.zone.get(), *last_fire, now, grace);
    return d;
}

std::chrono::milliseconds jitter_delay(std::chrono::milliseconds bound, std::uint64_t random_bits) {
    if (bound.count() <= 0) {
        return std::chrono::milliseconds(0);
    }
    // Inclusive range [0, bound]; the modulo bias is below 2^-40 for any sane bound.
    const auto span = static_cast<std::uint64_t>(bound.count()) + 1;
    return std::chrono::milliseconds(static_cast<std::int64_t>(random_bits % span));
}

std::vector<const config::policy*> pending_triggers(
    const config::configuration& c,
    const std::function<bool(const std::string& policy, const std::string& value)>& is_consumed) {
    std::vector<const config::policy*> out;
    for (const auto& p : c.policies) {
        if (p.trigger && !p.trigger->empty() && !is_consumed(p.name, *p.trigger)) {
            out.push_back(&p);
        }
    }
    return out;
}

}  // namespace atlas_restored::app
