#include "runs/batch.hpp"

#include <algorithm>
#include <array>

namespace atlas_restored::runs {
namespace {

namespace js = atlas::job_status;
namespace ds = atlas::delivery_status;

struct failure_rule {
    reason why;
    bool on_job_status;  // statusName, else delivery.statusName
    const char* status;
    bool download_methods_only;
};

// Checked in this order: the first rule any job matches names the run's reason.
constexpr std::array<failure_rule, 6> failure_rules{{
    {reason::job_broken, true, js::broken, false},
    {reason::job_killed, true, js::killed, false},
    {reason::delivery_failed, false, ds::failed, false},
    {reason::delivery_interrupted, false, ds::interrupted, false},
    // A link and its download budget only exist for deliveries we download.
    {reason::link_expired, false, ds::expired, true},
    {reason::download_budget_exhausted, false, ds::max_downloads_exceeded, true},
}};

std::string describe_failure(const failure_rule& rule, const job_state& job, std::size_t batch_size) {
    std::string who = "restore job " + job.job_id;
    if (batch_size > 1) {
        who += " (one of a batch of " + std::to_string(batch_size) + ")";
    }
    switch (rule.why) {
        case reason::job_broken:
            return who + " ended BROKEN in Atlas";
        case reason::job_killed:
            return who + " was KILLED in Atlas";
        case reason::delivery_failed:
            return "the delivery of " + who + " FAILED in Atlas";
        case reason::delivery_interrupted:
            return "the delivery of " + who + " was INTERRUPTED in Atlas";
        case reason::link_expired:
            return "the download link of " + who + " EXPIRED before its file was complete";
        case reason::download_budget_exhausted:
            return "the download link of " + who +
                   " reached its maxDownloads (MAX_DOWNLOADS_EXCEEDED) before a complete file was obtained";
        default:
            return who + " failed";
    }
}

}  // namespace

job_state job_state_of(const atlas::restore_job& job) {
    return {job.id,
            job.status_name,
            job.delivery_info.status_name.empty()
                ? std::nullopt
                : std::optional<std::string>(job.delivery_info.status_name)};
}

job_state job_state_of(const state::job_record& job) {
    return {job.job_id, job.status_name, job.delivery_status};
}

bool needs_download(std::string_view method) {
    return method == atlas::delivery_method::http || method == atlas::delivery_method::client_pit_http;
}

batch_verdict evaluate_batch(std::span<const job_state> jobs,
                             std::string_view method,
                             sys_time now,
                             sys_time deadline) {
    const bool download = needs_download(method);
    for (const auto& rule : failure_rules) {
        if (rule.download_methods_only && !download) {
            continue;
        }
        for (const auto& job : jobs) {
            const bool hit = rule.on_job_status ? job.status_name == rule.status
                                                : job.delivery_status == std::string(rule.status);
            if (hit) {
                return {batch_outcome::failed, rule.why, describe_failure(rule, job, jobs.size())};
            }
        }
    }
    const bool all_finished = !jobs.empty() && std::all_of(jobs.begin(), jobs.end(), [](const job_state& j) {
        return j.status_name == js::finished;
    });
    if (all_finished && !download) {
        return {batch_outcome::succeeded, std::nullopt, {}};
    }
    const bool all_ready = all_finished && std::all_of(jobs.begin(), jobs.end(), [](const job_state& j) {
                               return j.delivery_status == std::string(ds::ready);
                           });
    if (all_ready) {
        return {batch_outcome::ready_to_download, std::nullopt, {}};
    }
    if (now >= deadline) {
        const auto running = std::count_if(jobs.begin(), jobs.end(), [download](const job_state& j) {
            return j.status_name != js::finished || (download && j.delivery_status != std::string(ds::ready));
        });
        std::string message = "the policy's deadline passed while ";
        if (jobs.empty()) {
            message += "Atlas listed no job for the run yet";
        } else {
            message += std::to_string(running) + " of " + std::to_string(jobs.size()) +
                       (jobs.size() == 1 ? " restore job was" : " restore jobs were") + " still not " +
                       (download ? "ready for download" : "finished");
        }
        return {batch_outcome::failed, reason::deadline_exceeded, message};
    }
    return {batch_outcome::keep_waiting, std::nullopt, {}};
}

poll_decision next_poll(sys_time now,
                        sys_time deadline,
                        std::chrono::milliseconds interval,
                        const schedule::backoff_config& backoff,
                        unsigned consecutive_failures,
                        std::optional<std::chrono::seconds> retry_after,
                        double random01) {
    using std::chrono::milliseconds;
    milliseconds delay = interval;
    if (consecutive_failures > 0) {
        delay = std::chrono::ceil<milliseconds>(
            schedule::full_jitter_delay(backoff, consecutive_failures - 1, random01));
    }
    if (retry_after) {
        delay = std::max<milliseconds>(delay, *retry_after);
    }
    delay = std::max(delay, milliseconds{0});
    if (now + delay >= deadline) {
        const auto left = std::chrono::ceil<milliseconds>(deadline - now);
        return {std::max(left, milliseconds{0}), true};
    }
    return {delay, false};
}

}  // namespace atlas_restored::runs
