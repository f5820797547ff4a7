#pragma once
// `atlas-restored status`: what the state database says about runs and policies (SPEC §3), as
// JSON (`--json`, the scripting interface) or as lines for a human. write_status() reads the runs
// one at a time and writes as it goes, so memory stays flat with 100,000 runs; the functions over
// a status_snapshot produce the same output from records in memory (tests, small views).

#include "config/config.hpp"
#include "state/store.hpp"
#include "util/error.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace atlas_restored::app {

using run_details = state::run_with_details;

// Runs and the last reload in memory: what the functions below take (tests, small views).
struct status_snapshot {
    std::vector<run_details> runs;  // oldest first
    std::optional<state::reload_record> last_reload;
};

// The outcome of a finished run: "succeeded", "cancelled", or the failure's reason code (the
// error's text before its first colon, SPEC §3); the state itself for an unfinished run.
std::string outcome_of(const state::run_record& run);

// {"runs":[…],"policies":[…]} (SPEC §3). `configuration` may be null (it could not be loaded):
// policies is then empty, runs are complete. Times are ISO-8601 UTC or null.
boost::json::object status_document(const status_snapshot& snapshot,
                                    const config::configuration* configuration,
                                    std::chrono::system_clock::time_point now);

// What the running daemon answered to a ping (control socket), for the human output.
struct daemon_liveness {
    bool running = false;
    std::string detail;  // "pid 123: 1 active run, …" or why it is not known to run
};

// One line per configured policy (last outcome, age of the last successful run, next fire, the
// active run's state and download progress), then the most recent `recent_runs` runs.
std::string status_text(const status_snapshot& snapshot,
                        const config::configuration* configuration,
                        const std::optional<daemon_liveness>& daemon,
                        std::chrono::system_clock::time_point now,
                        std::size_t recent_runs = 10);

// The status of every run in `store` (JSON: the document of status_document, one line, then a
// newline; text: status_text's), written to `out` while the runs are read. A read error stops
// it: the output is then incomplete, and the caller must say so and fail.
result<void> write_status(state::store& store,
                          const config::configuration* configuration,
                          const std::optional<daemon_liveness>& daemon,
                          bool as_json,
                          std::chrono::system_clock::time_point now,
                          std::ostream& out);

// "45s", "3m", "5h", "2d".
std::string format_age(std::chrono::system_clock::duration age);

}  // namespace atlas_restored::app
