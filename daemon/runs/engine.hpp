#pragma once
// The run engine: turns "run policy P now" into a durable run and carries every run to its end,
// one coroutine per run (pending → submitting → waiting → downloading → verifying → succeeded |
// failed), across reloads, restarts and crashes. The app (daemon/app/) decides WHEN runs start
// (schedules, triggers, run-now); the engine decides everything that happens to a run after that.

#include "atlas/client.hpp"
#include "config/config.hpp"
#include "download/downloader.hpp"
#include "metrics/metrics.hpp"
#include "schedule/backoff.hpp"
#include "state/store.hpp"
#include "util/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atlas_restored::runs {

// What started a run (SPEC §3 `trigger` and the audit trail).
struct run_origin {
    enum class kind { schedule, trigger, manual };
    kind type = kind::manual;
    std::string trigger_value;  // kind::trigger: the policy's trigger value
    std::string started_by;     // kind::manual: the Unix user behind run-now, when known
    std::optional<std::chrono::system_clock::time_point> planned_at;  // kind::schedule: the fire time
};

// The Atlas client for a policy: its profile's, or atlas:'s. The app owns the clients (one per
// profile: tokens, nonces, connection pools and rate-limit buckets are per profile).
using client_for_policy = std::function<atlas::client*(const config::policy&)>;

struct engine_options {
    int max_concurrent_runs = 4;
    std::filesystem::path download_dir;
    std::filesystem::path reports_dir;  // state_dir/reports; empty: no reports are written
    std::string config_digest;          // SHA-256 of the effective configuration in force

    // Added by the engine (defaults fit the daemon):
    // Backoff after failed calls (full jitter). resume_unfinished() and configuration_changed() set
    // it from the configuration's retry: section. give_up_after bounds the pre-flight's retries
    // only: a run with jobs at Atlas keeps polling until its deadline.
    schedule::backoff_config retry;
    // Create calls per run: the first and the resubmissions of resubmit_on_expiry.
    int max_submissions = 3;
    // Timing knobs copied into every file's download plan (idle_timeout, hash_wait, retry_initial,
    // retry_max, hash_poll_initial, max_failures_without_progress, progress_every*, clock). Tests
    // shorten them; the per-file fields are the engine's.
    download::file_plan download_defaults;
    // For tests of crash safety: called at named points of a run ("intent_recorded": the intent is
    // committed, the create not sent; "create_answered": the create call returned, its jobs not yet
    // stored; "jobs_stored"; "ready"; "downloaded"). Returning true abandons the run right there, as a
    // SIGKILL would: nothing more is sent or written for it by this engine. The daemon's end-to-end
    // tests get the real thing: with ATLAS_RESTORED_TEST_KILL_AT=<point> in its environment the
    // process sends itself SIGKILL when a run reaches that point.
    std::function<bool(std::string_view point, const std::string& run_id)> crash_point;
    // Notifications (daemon/notify): called after a run's final state is committed and its report
    // written, and when a READY link will expire before its file is downloaded. They must not block.
    std::function<void(const state::run_record& run)> on_finished;
    std::function<void(const state::run_record& run,
                       const std::string& job_id,
                       const std::string& file,
                       const std::string& expires)>
        on_link_expiring;
};

struct engine_summary {
    int active_runs = 0;
    int queued_runs = 0;
    int active_downloads = 0;
    std::uint64_t download_bytes_done = 0;
    std::uint64_t download_bytes_total = 0;
};

class engine {
  public:
    engine(boost::asio::any_io_executor executor,
           state::store& store,
           metrics::recorder& metrics,
           client_for_policy clients,
           engine_options options);
    // Destroying the engine stops its runs like shutdown() does, without waiting; the store and the
    // metrics recorder must outlive the executor's remaining work (or call shutdown() first).
    ~engine();

    // Creates the run record durably (consuming the trigger value in the same transaction for
    // kind::trigger; a value already consumed returns errc::invalid_input and starts nothing),
    // then queues it. Trigger and manual runs take precedence over drills when
    // max_concurrent_runs is short. The policy is copied: a later reload does not change this run.
    result<std::string> start_run(const config::policy& policy, run_origin origin);

    // On start-up: every unfinished run in the database resumes from its stored state (no second
    // POST: an open intent is reconciled by listing first). Policies no longer configured still
    // finish, with the policy settings stored in the run.
    void resume_unfinished(const config::configuration& current);

    // After a successful reload: new runs use the new settings; in-flight runs are untouched.
    void configuration_changed(const config::configuration& next, std::string config_digest);

    // SIGTERM: stop starting work, cancel waits, persist; completes when every run coroutine has
    // stopped (unfinished runs stay resumable).
    boost::asio::awaitable<void> shutdown();

    engine_summary summary() const;

    // Added: whether a run is active (has its coroutine) or queued for a slot, for tests and status.
    bool is_active(const std::string& run_id) const;
    bool is_queued(const std::string& run_id) const;

  private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace atlas_restored::runs
