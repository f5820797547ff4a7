#pragma once
// Typed views of the Atlas legacy-backup resources we use (SPEC §1). Fields the server may omit
// are optional; unknown fields and unknown enum values are tolerated (kept as strings).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace atlas_restored::atlas {

// Enum-valued fields are kept as the server's strings (open world); these helpers classify them.
namespace job_status {
inline constexpr const char* in_progress = "IN_PROGRESS";
inline constexpr const char* broken = "BROKEN";
inline constexpr const char* killed = "KILLED";
inline constexpr const char* finished = "FINISHED";
}  // namespace job_status

namespace delivery_status {
inline constexpr const char* not_started = "NOT_STARTED";
inline constexpr const char* in_progress = "IN_PROGRESS";
inline constexpr const char* ready = "READY";
inline constexpr const char* failed = "FAILED";
inline constexpr const char* interrupted = "INTERRUPTED";
inline constexpr const char* expired = "EXPIRED";
inline constexpr const char* max_downloads_exceeded = "MAX_DOWNLOADS_EXCEEDED";
inline constexpr const char* pending = "PENDING";
}  // namespace delivery_status

namespace delivery_method {
inline constexpr const char* client_pit_http = "CLIENT_PIT_HTTP";
inline constexpr const char* query = "QUERY";
inline constexpr const char* automated_restore = "AUTOMATED_RESTORE";
inline constexpr const char* http = "HTTP";
inline constexpr const char* third_party_copy = "THIRD_PARTY_COPY";
inline constexpr const char* client_pit_scp = "CLIENT_PIT_SCP";
inline constexpr const char* scp = "SCP";
}  // namespace delivery_method

bool is_terminal_job_status(const std::string& status);       // BROKEN, KILLED, FINISHED
bool is_terminal_delivery_status(const std::string& status);  // READY and the failures
bool is_failed_delivery_status(const std::string& status);    // FAILED, INTERRUPTED, EXPIRED, MAX_…

struct link {
    std::string href;
    std::string rel;
};

struct bson_timestamp {
    std::string date;  // ISO-8601 UTC as sent
    std::int64_t increment = 0;
};

struct file_hash {
    std::string file_name;
    std::string hash;
    std::string type_name;  // "SHA1"
};

struct delivery {
    std::string method_name;
    std::string status_name;
    std::optional<std::string> auth_header;  // secret-bearing: never logged or stored
    std::optional<std::string> auth_value;   // secret
    std::optional<std::int32_t> expiration_hours;
    std::optional<std::string> expires;  // ISO-8601
    std::optional<std::int32_t> max_downloads;
    std::optional<std::string> target_cluster_id;
    std::optional<std::string> target_cluster_name;
    std::optional<std::string> target_group_id;
    std::optional<std::string> url;     // deprecated; embeds the key: secret
    std::optional<std::string> url_v2;  // secret-bearing (signed)
};

struct restore_job {
    std::string id;
    std::optional<std::string> batch_id;
    std::optional<std::string> cluster_id;
    std::optional<std::string> cluster_name;
    std::optional<std::string> created;  // ISO-8601
    delivery delivery_info;
    std::optional<bool> encryption_enabled;
    std::optional<std::string> group_id;
    std::vector<file_hash> hashes;
    std::vector<link> links;
    std::optional<std::string> master_key_uuid;
    std::optional<std::string> snapshot_id;
    std::string status_name;
    std::optional<bson_timestamp> timestamp;
    std::optional<std::string> deployment_job_id;
};

// The body of a create call (BackupRestoreJob's writable fields).
struct delivery_request {
    std::string method_name;
    std::optional<std::int32_t> expiration_hours;
    std::optional<std::int32_t> max_downloads;
    std::optional<std::string> target_cluster_id;
    std::optional<std::string> target_cluster_name;
    std::optional<std::string> target_group_id;
};

struct create_restore_job_request {
    std::optional<std::string> checkpoint_id;
    std::optional<std::int64_t> oplog_inc;
    std::optional<std::string> oplog_ts;
    std::optional<std::int64_t> point_in_time_utc_millis;
    std::optional<std::string> snapshot_id;
    delivery_request delivery;
};

struct snapshot_part {
    std::optional<std::string> cluster_id;
    std::optional<std::string> completed_time;
    std::optional<std::string> compression_setting;
    std::optional<std::int64_t> data_size_bytes;
    std::optional<bool> encryption_enabled;
    std::optional<std::string> fcv;
    std::optional<std::int64_t> file_size_bytes;
    std::optional<std::string> machine_id;
    std::optional<std::string> master_key_uuid;
    std::optional<std::string> mongod_version;
    std::optional<std::string> replica_set_name;
    std::optional<std::string> replica_state;
    std::optional<std::int64_t> storage_size_bytes;
    std::optional<std::string> type_name;
};

struct snapshot {
    std::string id;
    std::optional<std::string> cluster_id;
    std::optional<std::string> cluster_name;
    bool complete = false;
    std::optional<bson_timestamp> created;
    std::optional<bool> do_not_delete;
    std::optional<std::string> expires;
    std::optional<std::string> group_id;
    std::optional<bool> incremental;
    std::optional<bson_timestamp> last_oplog_applied_timestamp;
    std::vector<link> links;
    std::vector<snapshot_part> parts;
};

struct checkpoint_part {
    std::optional<std::string> replica_set_name;
    std::optional<std::string> shard_name;
    std::optional<bool> token_discovered;
    std::optional<bson_timestamp> token_timestamp;
    std::optional<std::string> type_name;
};

struct checkpoint {
    std::string id;
    std::optional<std::string> cluster_id;
    std::optional<std::string> completed;
    std::optional<std::string> group_id;
    std::vector<link> links;
    std::vector<checkpoint_part> parts;
    std::optional<bool> restorable;
    std::optional<std::string> started;
    std::optional<std::string> timestamp;
};

template <class T>
struct page {
    std::vector<T> results;
    std::optional<std::int64_t> total_count;
    std::vector<link> links;
    // With envelope=true Atlas adds the HTTP status to the body.
    std::optional<int> envelope_status;
};

// Atlas's error body (ApiError): {"error":429,"errorCode":"…","detail":"…","reason":"…"}.
struct api_error {
    int error = 0;
    std::string error_code;
    std::string detail;
    std::string reason;
};

}  // namespace atlas_restored::atlas
