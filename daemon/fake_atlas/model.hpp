#pragma once
// The state the fake Atlas keeps: what exists (organisations, groups, clusters, snapshots,
// checkpoints, restore jobs) and what it has seen (nonces, tokens, buckets, counters, the request
// log). Plain data; world.cpp and friends give it behaviour.

#include "fake_atlas/archive.hpp"
#include "fake_atlas/faults.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace atlas_restored::fake_atlas {

using time_point = std::chrono::system_clock::time_point;

// One shard's (or the config server's, or a replica set's) replica set.
struct part_model {
    std::string cluster_id;
    std::string replica_set_name;
    std::string shard_name;
    std::string type_name;  // REPLICA_SET or CONFIG_SERVER_REPLICA_SET
    bool config = false;
};

struct cluster_model {
    std::string org;
    std::string group_id;
    std::string name;
    std::string id;
    int shards = 0;                 // 0: replica set
    std::vector<part_model> parts;  // shards first, then the config server
};

struct snapshot_model {
    std::string id;
    std::string group_id;
    std::string cluster_name;
    time_point created;
    bool complete = true;
    bool incremental = false;
};

struct checkpoint_model {
    std::string id;
    std::string group_id;
    std::string cluster_name;
    time_point started;
    time_point completed;
};

struct job_model {
    std::uint64_t seq = 0;  // creation order
    std::string id;
    std::string group_id;
    std::string cluster_name;
    std::string cluster_id;   // the part's replica set
    std::string batch_id;     // sharded clusters only
    std::string snapshot_id;  // empty for point-in-time and checkpoint restores
    std::string file_name;    // HTTP deliveries only
    std::string requested_method;
    bool automated = false;
    std::optional<std::string> target_group_id;
    std::optional<std::string> target_cluster_name;
    std::optional<std::string> target_cluster_id;
    time_point created;
    time_point finishes;
    time_point restore_point;  // the BSON timestamp's date
    int expiration_hours = 48;
    int max_downloads = 2147483647;
    std::optional<time_point> expires_override;  // expire_link, or finished + --link-ttl
    std::string auth_value;                      // secret: the download key
    int downloads_used = 0;
    std::string final_status = "FINISHED";  // FINISHED, BROKEN or KILLED
    std::string final_delivery = "READY";   // READY, FAILED or INTERRUPTED
    bool always_wrong_hash = false;
    std::optional<std::string> recorded_hash;  // set when a download of the file completes
    std::shared_ptr<const archive> content;
    std::optional<std::string> full_sha1;  // cached full pass (downloads that resumed midway)
};

struct token_model {
    std::string client_id;
    std::string org;
    time_point expires;
};

struct nonce_model {
    time_point issued;
    std::uint64_t highest_nc = 0;
    std::set<std::uint64_t> recent_nc;  // the window below highest_nc, to catch replays
};

struct bucket_model {
    double tokens = 0;
    time_point last;
};

struct counters_model {
    std::uint64_t requests = 0;
    std::map<std::string, std::uint64_t> by_route;  // "GET /api/atlas/v2/…/restoreJobs"
    std::map<int, std::uint64_t> by_status;
    std::uint64_t creates = 0;
    std::uint64_t jobs_created = 0;
    std::uint64_t challenges = 0;     // 401 with a Digest challenge
    std::uint64_t stale_nonces = 0;   // of which stale=true
    std::uint64_t auth_failures = 0;  // 401 without a challenge (bad bearer, wrong org, download key)
    std::uint64_t nc_replays = 0;
    std::uint64_t token_requests = 0;
    std::uint64_t tokens_issued = 0;
    std::map<std::uint64_t, std::uint64_t> per_connection;
    std::uint64_t downloads_started = 0;
    std::uint64_t downloads_completed = 0;
    std::uint64_t download_bytes = 0;
    std::uint64_t range_requests = 0;
    std::uint64_t rate_limited = 0;
    std::uint64_t faults_applied = 0;
};

struct log_entry {
    std::uint64_t seq = 0;
    time_point at;
    std::uint64_t connection_id = 0;
    std::uint64_t request_index = 0;
    std::string method;
    std::string target;  // the download key in a `url` path is redacted
    std::string route;
    std::vector<std::pair<std::string, std::string>> headers;  // selected, secrets redacted
    int status = 0;
    std::string auth;  // none, digest, bearer, basic, download-key
    std::optional<std::string> digest_nc;
    std::optional<std::string> fault;
};

struct active_fault {
    fault_spec spec;
    int remaining = 0;
};

}  // namespace atlas_restored::fake_atlas
