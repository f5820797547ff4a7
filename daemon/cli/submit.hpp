#pragma once
// `atlas-restored submit`: one create call like the Atlas CLI's createClusterRestoreJob, using the
// configuration's atlas: section, optionally waiting until the batch is done (SPEC §3).

#include "atlas/types.hpp"

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace atlas_restored::cli {

struct submit_options {
    std::string config_file = "/etc/atlas-restored/atlas-restored.yaml";
    std::string group_id;
    std::string cluster;
    std::optional<std::string> snapshot_id;
    std::optional<std::string> checkpoint_id;
    std::optional<std::string> oplog_ts;
    std::optional<std::int64_t> oplog_inc;
    std::optional<std::int64_t> point_in_time_utc_millis;
    bool latest_snapshot = false;
    std::string method;
    std::optional<std::string> target_group_id;
    std::optional<std::string> target_cluster_name;
    std::optional<std::string> target_cluster_id;
    std::optional<std::string> confirm_overwrite;
    std::optional<std::int32_t> expiration_hours;
    std::optional<std::int32_t> max_downloads;
    bool envelope = false;
    bool pretty = false;
    bool wait = false;
    bool dry_run = false;
    bool show_secrets = false;
    std::optional<std::string> download_to;  // with --wait: download and verify every file here
    double poll_interval_seconds = 5.0;
};

// Registers the subcommand and its flags on `app`; values land in `options`.
CLI::App* add_submit_command(CLI::App& app, submit_options& options);

// Runs it; returns the exit code (0 ok, 1 API or run failure, 2 invalid input).
int run_submit(const submit_options& options, std::ostream& out, std::ostream& err);

}  // namespace atlas_restored::cli
