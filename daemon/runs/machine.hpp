#pragma once
// The run state machine (SPEC §3), pure: the states a run passes through, which moves between
// them are legal, and the stable reason codes a failed run ends with. The runner (engine.cpp)
// commits every move to the store before the action it allows, and asks this file first.
//
//   pending ──▶ submitting ──▶ waiting ──▶ downloading ──▶ verifying ──▶ succeeded
//      │            ▲  │         │  │          │   │            │
//      │            │  │         │  └──────────┼───┼────────────┼──▶ succeeded (AUTOMATED_RESTORE)
//      │            └──┼─────────┴─────────────┘   │            │    (resubmission on link expiry)
//      └───────────────┴──────────────┴────────────┴────────────┴──▶ failed | cancelled

#include "util/error.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace atlas_restored::runs {

enum class run_state { pending, submitting, waiting, downloading, verifying, succeeded, failed, cancelled };

const char* to_string(run_state s);  // the store's and `status`'s spelling: "pending", …
std::optional<run_state> parse_run_state(std::string_view text);
bool is_final(run_state s);  // succeeded, failed, cancelled

// The legal moves. Staying in a state is not a move (false). Final states have none.
bool can_transition(run_state from, run_state to);

// errc::invalid_input naming both states when the move is illegal.
result<void> check_transition(run_state from, run_state to);

// Why a run failed (SPEC §3). The spelling is a public interface: it starts a failed run's `error`,
// labels metrics and appears in reports.
enum class reason {
    preflight_failed,           // credentials, cluster, target, restore point or disk space refused
    submit_failed,              // Atlas refused the create call: nothing was created
    job_broken,                 // a job ended BROKEN
    job_killed,                 // a job ended KILLED
    delivery_failed,            // a delivery ended FAILED
    delivery_interrupted,       // a delivery ended INTERRUPTED
    link_expired,               // a download link EXPIRED before its file was complete
    download_budget_exhausted,  // maxDownloads spent before a complete file was obtained
    sha1_mismatch,              // the last allowed download did not match the job's hash
    disk_full,                  // no room for a file in download_dir
    after_download_failed,      // the after_download command failed or timed out
    deadline_exceeded,          // the policy's deadline passed first
};

const char* to_string(reason r);
std::optional<reason> parse_reason(std::string_view code);

// "<code>: <sentence>", with any URL cut down to its scheme and host (state::strip_urls): a failed
// run's `error` column, report `reason` and log line.
std::string format_error(reason r, std::string_view sentence);

// The reason code at the start of a stored `error` ("job_broken: …" → job_broken), if any.
std::optional<reason> reason_of(std::string_view error_text);

}  // namespace atlas_restored::runs
