#pragma once
// The daemon's durable state (SPEC §4): runs, their restore jobs and deliveries, downloaded files
// and their progress, submission intents, consumed triggers, schedule fires and reloads, in one
// SQLite file, STATE_DIR/atlas-restored.db, the daemon's only state.
//
// Every write method commits before it returns (synchronous=FULL: on disk, not just in a cache),
// so the caller may act on it at once: record_intent() before the create call,
// count_download_attempt() before each download GET. Several writes can be made atomic with
// in_transaction(); they then commit together when it returns.
//
// Never stored: authValue, authHeader, url, urlV2 or any other credential. Free text (a run's
// error, a reload message) is passed through strip_urls() on the way in.
//
// Times are Unix milliseconds. Lookups return std::nullopt for "no such row"; errc::not_found is
// for a write that names a row that does not exist; errc::invalid_input for a value the schema
// does not allow (an unknown state, a duplicate intent); errc::io_failed for SQLite failures.

#include "state/sqlite.hpp"
#include "util/error.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atlas_restored::state {

// Run states (SPEC §3). The last three are final.
namespace run_state {
inline constexpr const char* pending = "pending";
inline constexpr const char* submitting = "submitting";
inline constexpr const char* waiting = "waiting";
inline constexpr const char* downloading = "downloading";
inline constexpr const char* verifying = "verifying";
inline constexpr const char* succeeded = "succeeded";
inline constexpr const char* failed = "failed";
inline constexpr const char* cancelled = "cancelled";
}  // namespace run_state
bool is_run_state(std::string_view state);
bool is_final_run_state(std::string_view state);

namespace file_state {
inline constexpr const char* pending = "pending";
inline constexpr const char* downloading = "downloading";
inline constexpr const char* verified = "verified";
inline constexpr const char* failed = "failed";
}  // namespace file_state
bool is_file_state(std::string_view state);

struct run_record {
    std::string id;  // make_run_id()
    std::string policy;
    std::string trigger;     // "schedule" | "manual" | the trigger value
    std::string started_by;  // e.g. the unix user behind run-now; may be empty
    std::string state;       // run_state::*
    std::string error;       // "reason_code: sentence", empty if none
    std::string group_id;
    std::string cluster;
    std::string method;
    std::string restore_point_json;  // the resolved restore point, e.g. {"snapshotId":"…"}
    std::optional<std::string> snapshot_id;
    std::optional<std::string> snapshot_time;  // ISO-8601
    std::optional<std::string> batch_id;
    std::string config_digest;
    std::optional<std::int64_t> planned_at;
    std::optional<std::int64_t> created_at;
    std::optional<std::int64_t> submitted_at;
    std::optional<std::int64_t> ready_at;
    std::optional<std::int64_t> downloaded_at;
    std::optional<std::int64_t> finished_at;
    int submissions = 0;  // create calls this run made (resubmission on expiry)

    bool operator==(const run_record&) const = default;
};

struct intent_record {
    std::string run_id;
    int submission_no = 0;
    std::string request_body_json;
    std::int64_t created_at = 0;
    bool resolved = false;
    std::vector<std::string> job_ids;  // set when resolved

    bool operator==(const intent_record&) const = default;
};

struct job_record {
    std::string run_id;
    std::string job_id;
    int submission_no = 0;
    std::optional<std::string> batch_id;
    std::string status_name;                     // IN_PROGRESS | BROKEN | KILLED | FINISHED | …
    std::optional<std::string> delivery_status;  // delivery.statusName
    std::optional<std::string> delivery_method;  // delivery.methodName
    std::optional<std::string> expires;          // delivery.expires, ISO-8601
    std::optional<std::int32_t> max_downloads;   // delivery.maxDownloads
    std::optional<std::string> file_name;        // the server's file name, once known
    std::optional<std::string> created;          // ISO-8601

    bool operator==(const job_record&) const = default;
};

struct file_record {
    std::string run_id;
    std::string job_id;
    std::string file_name;
    std::optional<std::int64_t> bytes_expected;
    std::int64_t bytes_done = 0;
    std::optional<std::string> sha1_expected;
    std::optional<std::string> sha1_actual;
    bool verified = false;
    int attempts = 0;  // read-only here: only count_download_attempt() changes it
    std::optional<std::string> etag;
    std::string state = file_state::pending;

    bool operator==(const file_record&) const = default;
};

// A run with its jobs and files, as `status` shows it.
struct run_with_details {
    run_record run;
    std::vector<job_record> jobs;    // first stored first
    std::vector<file_record> files;  // first stored first
};

struct reload_record {
    bool ok = false;
    std::int64_t at = 0;
    std::string message;

    bool operator==(const reload_record&) const = default;
};

// The configuration the daemon runs with (config::config_snapshot as stored; see schema v3).
struct configuration_record {
    std::string digest;
    std::map<std::string, std::string> sections;
    std::map<std::string, std::string> policies;

    bool operator==(const configuration_record&) const = default;
};

// "r-20261128-235959-ab12cd": UTC time of creation to the second, then 24 random bits, so ids
// sort by creation time and two runs started in the same second differ.
std::string make_run_id(std::int64_t unix_millis, std::uint32_t random_bits);
std::string make_run_id(std::int64_t unix_millis);  // random bits from std::random_device

// Replaces every http:// or https:// URL in `text` by its scheme and host ("https://host/…"):
// signed download URLs carry their credential in the path or query.
std::string strip_urls(std::string_view text);

class store {
  public:
    static constexpr const char* file_name = "atlas-restored.db";
    static std::filesystem::path database_path(const std::filesystem::path& state_dir);

    // The daemon's read-write store: creates state_dir and the database if missing, checks the
    // file (refusing a corrupt, foreign or newer-schema one without touching it), turns on WAL
    // and synchronous=FULL, migrates.
    static result<store> open(const std::filesystem::path& state_dir);
    // A read-only view for `status` (works while the daemon writes). errc::not_found if the
    // daemon never created the database.
    static result<store> open_read_only(const std::filesystem::path& state_dir);

    const std::filesystem::path& path() const { return db_.path(); }
    db& connection() { return db_; }

    // Runs `body` (calls of this store's write methods) in one transaction: all of it commits,
    // or none of it if `body` returns an error. Nested calls join the outer transaction.
    result<void> in_transaction(const std::function<result<void>()>& body);

    // --- runs
    // errc::invalid_input if the id exists or the state is unknown.
    result<void> insert_run(const run_record& run);
    // Inserts the run and consumes (run.policy, trigger_value) atomically. false (nothing
    // written) if that trigger was consumed already.
    result<bool> insert_run_consuming_trigger(const run_record& run, std::string_view trigger_value);
    // Replaces every field of the run with this id. A final state is never left
    // (errc::invalid_input).
    result<void> update_run(const run_record& run);
    // State and error; finished_at too when given. A final state is never left.
    result<void> set_run_state(std::string_view run_id,
                               std::string_view state,
                               std::string_view error = {},
                               std::optional<std::int64_t> finished_at = std::nullopt);
    result<std::optional<run_record>> get_run(std::string_view run_id);
    // Oldest first (insertion order).
    result<std::vector<run_record>> list_runs(bool only_unfinished = false);
    // Every run, oldest first, with its jobs and files, handed to `visit` one at a time so that
    // memory does not grow with the number of runs (`status --json` over 100,000 runs). Three
    // queries read in step inside one read transaction: one consistent view even while the
    // daemon writes. Stops at, and returns, the first error of `visit`.
    result<void> for_each_run_with_details(const std::function<result<void>(run_with_details&&)>& visit);
    // One policy's runs, oldest first (index runs_by_policy): what retention looks at after each
    // run, without reading every other policy's history.
    result<std::vector<run_record>> list_runs_of_policy(std::string_view policy);
    // The run of the policy in a final state that finished last (by finished_at, then insertion).
    result<std::optional<run_record>> last_finished_run_for_policy(std::string_view policy);
    result<std::optional<run_record>> last_succeeded_run_for_policy(std::string_view policy);
    // A drill is a run started by the schedule or run-now; a trigger's run is an on-call restore.
    result<std::optional<run_record>> last_succeeded_drill_for_policy(std::string_view policy);
    result<std::int64_t> count_runs();
    // The policy settings a run was started with (JSON written by the run engine; schema v2). ""
    // for a run that has none; nullopt if there is no such run.
    result<void> set_run_policy(std::string_view run_id, std::string_view policy_json);
    result<std::optional<std::string>> get_run_policy(std::string_view run_id);

    // --- intents (exactly-once submission)
    // Commit this before sending the create call. One intent per (run, submission_no): a second
    // is errc::invalid_input. A body that looks like it holds a URL or authValue is refused.
    result<void> record_intent(std::string_view run_id,
                               int submission_no,
                               std::string_view request_body_json,
                               std::int64_t created_at_millis);
    result<std::optional<intent_record>> get_intent(std::string_view run_id, int submission_no);
    // By submission number.
    result<std::vector<intent_record>> list_intents(std::string_view run_id);
    result<void> mark_intent_resolved(std::string_view run_id,
                                      int submission_no,
                                      const std::vector<std::string>& job_ids);

    // --- jobs and deliveries
    result<void> upsert_job(const job_record& job);  // by (run_id, job_id); the run must exist
    result<std::optional<job_record>> get_job(std::string_view run_id, std::string_view job_id);
    result<std::vector<job_record>> list_jobs(std::string_view run_id);  // first stored first
    // The run that owns a restore job id (the first stored, should two ever do), or nullopt.
    result<std::optional<std::string>> find_job_owner(std::string_view job_id);

    // --- files and downloads (one file per job)
    // Inserts or updates every field but `attempts`; the job must exist.
    result<void> upsert_file(const file_record& file);
    // Counts one download GET, durably, and returns the new count. Call it before sending the
    // GET: a crash after the GET then over-counts, never under-counts. Creates the file row
    // (empty name, pending) if there is none yet; the job must exist.
    result<int> count_download_attempt(std::string_view run_id, std::string_view job_id);
    result<void> update_progress(std::string_view run_id,
                                 std::string_view job_id,
                                 std::int64_t bytes_done,
                                 std::optional<std::string> etag = std::nullopt);
    result<void> set_file_state(std::string_view run_id, std::string_view job_id, std::string_view state);
    // verified = true, state verified, sha1_actual (40 lower-case hex digits), bytes_done.
    result<void> mark_verified(std::string_view run_id,
                               std::string_view job_id,
                               std::string_view sha1_actual,
                               std::int64_t bytes_done);
    result<std::optional<file_record>> get_file(std::string_view run_id, std::string_view job_id);
    result<std::vector<file_record>> list_files(std::string_view run_id);  // first stored first

    // --- triggers (a value runs once per policy, ever)
    result<bool> is_trigger_consumed(std::string_view policy, std::string_view value);
    // false (nothing written) if already consumed. Prefer insert_run_consuming_trigger().
    result<bool> consume_trigger(std::string_view policy, std::string_view value, std::string_view run_id);

    // --- schedule bookkeeping (the missed-fire rule)
    result<std::optional<std::int64_t>> last_fire(std::string_view policy);
    result<void> set_last_fire(std::string_view policy, std::int64_t fire_millis);

    // --- configuration reloads (a short history is kept)
    result<void> record_reload(bool ok, std::int64_t at_millis, std::string_view message);
    result<std::optional<reload_record>> last_reload();
    result<std::optional<reload_record>> last_successful_reload();

    // --- the configuration in force (replaced as a whole at each start and successful reload)
    result<void> save_configuration_in_force(const configuration_record& c);
    // std::nullopt if no daemon of this schema version has started with this database yet.
    result<std::optional<configuration_record>> configuration_in_force();

  private:
    explicit store(db connection) : db_(std::move(connection)) {}
    result<std::optional<run_record>> last_run_for_policy(std::string_view policy,
                                                          std::string_view states_sql);
    result<void> insert_run_unlocked(const run_record& run);
    result<void> write_run(const run_record& run);
    result<bool> consume_trigger_unlocked(std::string_view policy,
                                          std::string_view value,
                                          std::string_view run_id);

    db db_;
};

// One daemon per state directory: an exclusive advisory lock (flock) on
// STATE_DIR/atlas-restored.lock, held while this object lives. Two daemons sharing a database
// would both submit the same runs. Separate from store::open so that a short-lived second
// writer the daemon expects (if any) is not locked out; the daemon takes it first.
class state_dir_lock {
  public:
    static constexpr const char* file_name = "atlas-restored.lock";
    // Does not wait: errc::io_failed naming the directory if another process holds it.
    static result<state_dir_lock> acquire(const std::filesystem::path& state_dir);

    state_dir_lock(state_dir_lock&& other) noexcept;
    state_dir_lock& operator=(state_dir_lock&& other) noexcept;
    state_dir_lock(const state_dir_lock&) = delete;
    state_dir_lock& operator=(const state_dir_lock&) = delete;
    ~state_dir_lock();

  private:
    explicit state_dir_lock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

}  // namespace atlas_restored::state
