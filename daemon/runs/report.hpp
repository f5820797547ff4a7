#pragma once
// The report of a finished run (SPEC §4 "Reports"): STATE_DIR/reports/<policy>/<run-id>.json with
// the outcome and reason, who or what started the run, the configuration digest, the jobs, the
// files and the timings (time to submit, to delivery READY, to download complete, total = the
// drill's RTO; the restored data's age = RPO). Building it is pure; writing it is atomic (a
// reader sees the old file or the whole new one, never a part).

#include "state/store.hpp"
#include "util/error.hpp"

#include <boost/json/object.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace atlas_restored::runs {

// Every field comes from the run's records, so a report can be rebuilt from the database alone.
// Times are ISO-8601 UTC with milliseconds; durations are seconds (numbers), null when the run
// never reached that point. Never holds a URL or a credential (the records hold none).
boost::json::object build_report(const state::run_record& run,
                                 const std::vector<state::job_record>& jobs,
                                 const std::vector<state::file_record>& files);

// The report's "timings_seconds" (to_submit, to_ready, to_download_complete, total_rto,
// snapshot_age_rpo): also what webhooks carry, so both say the same RTO and RPO.
boost::json::object run_timings(const state::run_record& run);

// An ISO-8601 UTC time with milliseconds, or null.
boost::json::value iso_time_or_null(const std::optional<std::int64_t>& unix_millis);

// reports_dir/<policy>/<run-id>.json
std::filesystem::path report_path(const std::filesystem::path& reports_dir, const state::run_record& run);

// Writes `report` (indented, newline-terminated) to report_path(): a temporary file beside it,
// fsynced, renamed into place, the directory fsynced. Creates the directories.
result<void> write_report(const std::filesystem::path& reports_dir,
                          const state::run_record& run,
                          const boost::json::object& report);

// The journal line of a finished run: "run r-… of policy p succeeded in 1h2m (submit 3s, ready
// 58m, download 4m; data 2h old)" or "… failed: job_broken: …".
std::string summary_line(const state::run_record& run);

}  // namespace atlas_restored::runs
