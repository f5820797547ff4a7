#pragma once
// The effective configuration (SPEC §2) as plain values: every default filled in, profiles resolved
// against atlas:, drop-ins merged. Produced by load_configuration() (config/loader.hpp); nothing here
// does I/O. Secrets are never held here, only references to where they live (secret_ref).

#include "schedule/cron.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace atlas_restored::schedule {
class time_zone;
}

namespace atlas_restored::config {

using duration = std::chrono::milliseconds;

// Where a value was written: file name as given to the loader (or as matched by include:), 1-based
// line and column. line == 0 means "the file as a whole".
struct location {
    std::string file;
    int line = 0;
    int column = 0;
};

// A secret is only ever named, never written, in the YAML:
//   *_file: /abs/path   -> file        (read at use)
//   *_file: name        -> credential  (relative: looked up under $CREDENTIALS_DIRECTORY, systemd)
//   *_env: VAR          -> env         (the daemon's environment)
enum class secret_source { file, credential, env };

struct secret_ref {
    secret_source source = secret_source::file;
    std::string name;        // path, credential name or variable name (never the secret)
    std::string field_path;  // "atlas.auth.service_account.client_secret_file", for messages
    location where;
};

// "file /etc/x", "credential atlas-secret", "env ATLAS_SECRET": safe to print.
std::string describe(const secret_ref& ref);

struct service_account_auth {
    std::string client_id;
    secret_ref client_secret;
};

struct api_key_auth {
    std::string public_key;
    secret_ref private_key;
};

// Exactly one of the two is set after a successful load.
struct auth_settings {
    std::optional<service_account_auth> service_account;
    std::optional<api_key_auth> api_key;
};

// atlas: (and, resolved, each profile).
struct atlas_settings {
    std::string base_url = "https://cloud.mongodb.com";
    std::string api_version = "2023-01-01";
    auth_settings auth;
    std::optional<std::string> ca_file;  // tls.ca_file; unset: the system trust store
    duration request_timeout = std::chrono::seconds(30);
    int requests_per_minute = 100;     // client-side limit per project
    std::optional<std::string> proxy;  // unset: $https_proxy / $no_proxy
    // proxy_credentials_file / _env: "user:password" for the proxy (Basic), a secret. Unset: the
    // userinfo of $https_proxy, if any (atlas.proxy itself may not hold credentials).
    std::optional<secret_ref> proxy_credentials;
};

struct profile {
    std::string name;
    atlas_settings atlas;  // inheritance from atlas: already applied
    location where;
};

enum class notify_event { failed, succeeded, link_expiring, reload_failed };
const char* to_string(notify_event e);

struct notify_target {
    secret_ref url;  // the webhook URL is a secret (it usually embeds a token)
    // Default when `on:` is absent: every event.
    std::vector<notify_event> on = {notify_event::failed,
                                    notify_event::succeeded,
                                    notify_event::link_expiring,
                                    notify_event::reload_failed};
    std::optional<std::string> ca_file;  // tls.ca_file; unset: the system trust store
    location where;
};

struct retry_settings {
    duration initial = std::chrono::seconds(1);
    double multiplier = 2.0;
    duration max = std::chrono::minutes(2);
    duration give_up_after = std::chrono::hours(1);
};

enum class restore_point_kind { latest_snapshot, snapshot_id, point_in_time, oplog, checkpoint_id };
const char* to_string(restore_point_kind k);  // the YAML key: "latest_snapshot", "snapshot_id", …

// Exactly one kind; only the fields of that kind are meaningful.
struct restore_point {
    restore_point_kind kind = restore_point_kind::latest_snapshot;
    std::string snapshot_id;                    // snapshot_id
    std::int64_t point_in_time_utc_millis = 0;  // point_in_time
    std::string oplog_ts;                       // oplog.ts (ISO-8601 UTC)
    std::int64_t oplog_inc = 0;                 // oplog.inc
    std::string checkpoint_id;                  // checkpoint_id
};

struct delivery_settings {
    std::string method;  // delivery.methodName: HTTP, AUTOMATED_RESTORE, CLIENT_PIT_HTTP, …
    std::optional<std::int32_t> expiration_hours;
    std::optional<std::int32_t> max_downloads;
    std::optional<std::string> target_group_id;
    std::optional<std::string> target_cluster_name;
    std::optional<std::string> target_cluster_id;
    // AUTOMATED_RESTORE erases the target: the user repeats the target cluster's name here. With
    // only target_cluster_id set the name is not known at load time; the runner compares it with
    // the target cluster's name as Atlas reports it before submitting.
    std::optional<std::string> confirm_overwrite;
};

enum class mismatch_action { keep, delete_file };
const char* to_string(mismatch_action a);  // "keep", "delete"

struct download_settings {
    std::string verify = "sha1";                            // the only value Atlas supports
    int keep_last = 2;                                      // completed runs' files kept per policy
    std::uint64_t max_file_bytes = std::uint64_t{1} << 40;  // 1 TiB: refuse larger downloads
    mismatch_action on_mismatch = mismatch_action::keep;    // what to do with a file whose SHA1 differs
};

struct after_download_settings {
    std::vector<std::string> command;  // argv, no shell; "{file}" is replaced by the file's path
    duration timeout = std::chrono::minutes(10);
};

struct policy {
    std::string name;
    std::string group_id;
    std::string cluster;
    std::optional<std::string> profile;  // unset: atlas:
    std::optional<schedule::cron_expression> schedule;
    std::string timezone = "UTC";
    std::shared_ptr<const schedule::time_zone> zone;  // loaded `timezone`; null only if loading failed
    duration schedule_jitter{0};
    std::optional<std::string> trigger;
    restore_point point;  // YAML: restore_point
    delivery_settings delivery;
    download_settings download;
    std::optional<after_download_settings> after_download;
    bool resubmit_on_expiry = false;
    duration poll_interval = std::chrono::seconds(30);
    duration deadline = std::chrono::hours(6);
    std::optional<duration> missed_fire_grace;  // unset: a fire missed while down is skipped

    location where;  // the policy's "- name:" entry
    // 1-based line of each key written, by path relative to the policy ("restore_point.snapshot_id").
    std::map<std::string, int> key_lines;
    int index = 0;  // position in its file's policies: list, for "policies[2]" paths
};

struct configuration {
    atlas_settings atlas;
    std::vector<profile> profiles;
    std::vector<notify_target> notify;
    retry_settings retry;
    std::filesystem::path state_dir = "/var/lib/atlas-restored";
    std::filesystem::path download_dir =
        "/var/lib/atlas-restored/downloads";                       // default: <state_dir>/downloads
    std::optional<std::string> metrics_listen = "127.0.0.1:9464";  // nullopt: disabled ("" or "off")
    int max_concurrent_runs = 4;
    std::string log_level = "info";    // trace | debug | info | warn | error | critical | off
    std::vector<std::string> include;  // the globs as written
    std::vector<policy> policies;      // main file first, then drop-ins in sorted path order

    std::filesystem::path main_file;
    std::vector<std::filesystem::path> files;  // main file and every drop-in read, in load order
};

// The Atlas settings a policy uses: its profile's, or atlas:. nullptr if the profile is unknown
// (impossible after a successful load).
const atlas_settings* settings_for(const configuration& c, const policy& p);
const profile* find_profile(const configuration& c, const std::string& name);
const policy* find_policy(const configuration& c, const std::string& name);

}  // namespace atlas_restored::config
