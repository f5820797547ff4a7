#pragma once
// Loading the YAML configuration (SPEC §2): the main file, its include: drop-ins, every default,
// profile inheritance, and every rule (types, unknown keys, the seed's cross-field rules). Loading
// never stops at the first mistake: it returns every problem it found, each with file, line and
// field path, so one `check` shows the user everything to fix.

#include "atlas/types.hpp"
#include "config/config.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace atlas_restored::config {

struct config_problem {
    std::string file;        // as given to the loader, or the drop-in path as matched by include:
    int line = 0;            // 1-based; 0: the file as a whole (it cannot be read, a glob failed)
    int column = 0;          // 1-based; 0 when unknown
    std::string field_path;  // "policies[2].restore_point.snapshot_id"; empty for syntax errors
    std::string message;     // what is wrong and what is allowed; never a secret's value
};

// "FILE:LINE: field.path: message" (SPEC §2). Without a path: "FILE:LINE: message"; without a line:
// "FILE: field.path: message".
std::string format_problem(const config_problem& p);

// Either the configuration or every problem found (never an empty list). value() on a failed
// result throws std::runtime_error with the formatted problems.
using load_result = boost::system::result<configuration, std::vector<config_problem>>;

// Reads main_file and the drop-ins its include: globs match (relative globs are resolved against
// main_file's directory; a glob that matches nothing is fine). Runs validate_policies() with `now`.
// Credential files are not read here: see check_credentials() in config/secrets.hpp.
load_result load_configuration(const std::filesystem::path& main_file,
                               std::chrono::system_clock::time_point now);
load_result load_configuration(const std::filesystem::path& main_file);  // now = system_clock::now()

// The cross-field rules of the seed and of the policies (SPEC §2), on a parsed configuration whose
// policies carry their key lines: the Atlas create request each policy would send is checked with
// atlas::validate_create_request (a placeholder snapshot id for latest_snapshot; the 24-hour
// window of point_in_time_utc_millis is left to run time, its minimum is checked), plus: checkpoint_id
// only with AUTOMATED_RESTORE; AUTOMATED_RESTORE needs target_group_id, a target cluster and
// confirm_overwrite equal to target_cluster_name (with only target_cluster_id, the name is compared
// at run time); unique policy names; profile: names a configured profile.
std::vector<config_problem> validate_policies(const configuration& c,
                                              std::chrono::system_clock::time_point now);

// The Atlas create request a policy sends. For latest_snapshot, snapshot_id is left unset: the caller
// sets the snapshot it picked at run time.
atlas::create_restore_job_request to_create_request(const policy& p);

// Levenshtein distance, for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

// Found by argument-dependent lookup (config_problem is a template argument of the error type):
// lets load_result::value() report a failed load.
[[noreturn]] void throw_exception_from_error(const std::vector<config_problem>& problems,
                                             const boost::source_location& loc);

}  // namespace atlas_restored::config
