#pragma once
// The pre-flight and the create request of a run, pure: from the policy, the cluster's completed
// snapshots (the pre-flight's one API call, which also proves the credentials and the cluster) and
// `now`, decide exactly what will be sent, or why the run cannot succeed and must not consume a
// restore (SPEC §4 "Pre-flight").

#include "atlas/types.hpp"
#include "config/config.hpp"
#include "util/error.hpp"
#include "util/time.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atlas_restored::runs {

// The newest complete snapshot by creation time (what `latest_snapshot` restores), or nullptr.
const atlas::snapshot* newest_complete_snapshot(const std::vector<atlas::snapshot>& snapshots);

struct submission_plan {
    atlas::create_restore_job_request request;
    // The resolved restore point without the delivery, e.g. {"snapshotId":"…"}: runs.restore_point_json.
    std::string restore_point_json;
    std::optional<std::string> snapshot_id;    // the snapshot restored, when known
    std::optional<std::string> snapshot_time;  // the time of the restored data (ISO-8601), for RPO
    // The snapshot's fileSizeBytes summed over its parts (shards and config server): the room a
    // download needs. 0 when unknown.
    std::uint64_t expected_bytes = 0;
};

// Resolves the restore point and builds the request, checking everything that can be checked before
// sending: a completed snapshot exists (latest_snapshot) or is the one named (snapshot_id); a point
// in time lies in the last 24 hours at `now`; the seed's rules on the whole body; AUTOMATED_RESTORE
// names its target by name and confirm_overwrite repeats that name (with only target_cluster_id the
// name Atlas has for it cannot be looked up with these calls, so the run is refused); no snapshot
// part is larger than download.max_file_bytes. An error (errc::invalid_input) carries the sentence
// for `preflight_failed: …`.
result<submission_plan> plan_submission(const config::policy& policy,
                                        const std::vector<atlas::snapshot>& snapshots,
                                        sys_time now);

// nullopt when `available` bytes hold `needed` with a margin (1 % and at least 64 MiB, for the
// file system's own needs); otherwise the sentence for `preflight_failed: …`.
std::optional<std::string> free_space_problem(std::uint64_t needed,
                                              std::uint64_t available,
                                              const std::string& directory);

// The reconcile step (SPEC §4 "Exactly one submission per run"): of a cluster's listed restore
// jobs, the ones a create of `request` sent at or after `not_before` may have made
// (atlas::job_matches_request) and that no run owns yet (`owned`: a job id already in the state
// database, of any run). When several match, only the newest job's batch is taken (a sharded
// create makes one batch; a replica-set create one job). Empty: the listing proves the create did
// not happen.
std::vector<atlas::restore_job> pick_created_jobs(
    std::vector<atlas::restore_job> listed,
    const atlas::create_restore_job_request& request,
    sys_time not_before,
    const std::function<bool(const std::string& job_id)>& owned);

// The create call's body as stored in the intent (the request's JSON) and back.
std::string request_body_json(const atlas::create_restore_job_request& request);
result<atlas::create_restore_job_request> parse_request_body_json(std::string_view json_text);

}  // namespace atlas_restored::runs
