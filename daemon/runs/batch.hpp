#pragma once
// What a poll of a run's jobs means, and when to poll next. Pure: the jobs, `now` and the random
// number are parameters, so every decision is a table test.

#include "atlas/types.hpp"
#include "runs/machine.hpp"
#include "schedule/backoff.hpp"
#include "state/store.hpp"
#include "util/time.hpp"

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace atlas_restored::runs {

// The part of a restore job a decision needs, from an answer or from the store.
struct job_state {
    std::string job_id;
    std::string status_name;                     // statusName
    std::optional<std::string> delivery_status;  // delivery.statusName
};
job_state job_state_of(const atlas::restore_job& job);
job_state job_state_of(const state::job_record& job);

// HTTP and CLIENT_PIT_HTTP deliver files the run downloads; the other methods (AUTOMATED_RESTORE
// first of all) are done when Atlas is.
bool needs_download(std::string_view method);

enum class batch_outcome {
    keep_waiting,
    ready_to_download,  // download methods: every job FINISHED and every delivery READY
    succeeded,          // other methods: every job FINISHED
    failed,             // `why` says which SPEC §3 reason
};

struct batch_verdict {
    batch_outcome outcome = batch_outcome::keep_waiting;
    std::optional<reason> why;  // set when failed
    std::string message;        // the sentence after the reason code
    bool operator==(const batch_verdict&) const = default;
};

// A sharded batch succeeds only when all its jobs do, and fails as soon as one fails: BROKEN →
// job_broken, KILLED → job_killed, delivery FAILED → delivery_failed, INTERRUPTED →
// delivery_interrupted and, for download methods, EXPIRED → link_expired and
// MAX_DOWNLOADS_EXCEEDED → download_budget_exhausted (the first of these, in this order, wins when
// jobs fail differently). A batch still running at `deadline` fails with deadline_exceeded. An
// empty batch keeps waiting (a listing may lag behind the create) until the deadline.
batch_verdict evaluate_batch(std::span<const job_state> jobs,
                             std::string_view method,
                             sys_time now,
                             sys_time deadline);

// When to poll next.
struct poll_decision {
    std::chrono::milliseconds delay{0};
    // The deadline comes first: wait `delay` (until the deadline), then fail the run.
    bool deadline_reached = false;
    bool operator==(const poll_decision&) const = default;
};

// After a successful poll (consecutive_failures == 0) the policy's interval; after failures,
// full-jitter backoff (the n-th consecutive failure waits random01 × min(max, initial ×
// multiplier^(n-1))); a server's Retry-After is a floor in both cases. A wait that would end at or
// after the deadline is cut to the deadline with deadline_reached set.
poll_decision next_poll(sys_time now,
                        sys_time deadline,
                        std::chrono::milliseconds interval,
                        const schedule::backoff_config& backoff,
                        unsigned consecutive_failures,
                        std::optional<std::chrono::seconds> retry_after,
                        double random01);

}  // namespace atlas_restored::runs
