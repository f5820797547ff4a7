#pragma once
// Retention of downloaded restores: per policy, the newest `keep_last` verified runs keep their
// directory (download_dir/<policy>/<run-id>/); older ones are deleted. Never a run that is still
// going: its .partial file is its resume point.

#include "util/error.hpp"

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace atlas_restored::download {

// Keeps the directories of the first `keep_last` runs of verified_run_ids_newest_first and of
// every unfinished run. Deletes (recursively, without following symlinks):
//  - the directories of the other verified runs, and
//  - directories of finished, unverified runs (failed ones, with .partial/.corrupt files) whose
//    run id sorts before the oldest kept run's (run ids sort by creation time): older leftovers.
// Entries that are not directories, and everything newer than the oldest kept run, are left
// alone; with fewer verified runs than keep_last nothing unverified is deleted. A missing
// policy_dir deletes nothing. Returns the directories it deleted; the first failure to delete is
// errc::io_failed (directories deleted before it stay deleted).
result<std::vector<std::filesystem::path>> apply_retention(
    const std::filesystem::path& policy_dir,
    int keep_last,
    std::vector<std::string> verified_run_ids_newest_first,
    std::set<std::string> unfinished_run_ids);

}  // namespace atlas_restored::download
