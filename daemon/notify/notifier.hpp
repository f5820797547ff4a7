#pragma once
// Webhook notifications (SPEC §2 `notify:`, issue 7): one JSON document POSTed per event
// (failed, succeeded, link_expiring, reload_failed) to every webhook that subscribed to it.
//
// - The URL is a secret (chat and paging webhooks embed a token): it is read from its file (or
//   environment variable, or systemd credential) at each delivery and never logged; log lines
//   and errors name only its host.
// - Delivery goes over the project's HTTPS transport (TLS 1.2+, peer and host-name verification,
//   the webhook's tls.ca_file or the system trust store, the same proxy rule as Atlas).
// - A failed attempt (transport error, 408, 429, 5xx) is retried with full-jitter backoff from the
//   `retry:` section, at most `max_attempts` times and never past give_up_after; other answers
//   fail at once. A notification that cannot be delivered is logged and counted in
//   atlas_restored_notifications_failed_total.
// - publish() only queues (bounded): it never blocks or fails a run. Each webhook has its own
//   queue and delivers its events in order.

#include "config/config.hpp"
#include "config/secrets.hpp"
#include "http/proxy.hpp"
#include "metrics/metrics.hpp"
#include "schedule/backoff.hpp"
#include "state/store.hpp"
#include "util/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace atlas_restored::notify {

// The documents (pure). Every one has: "event", "policy", "run_id", "reason" (the failure reason
// code, or null), "summary" (one line) and "text" (the same line, for chat webhooks that show
// "text"), "at" (ISO-8601 UTC).
//
// failed / succeeded: also "state", "error", "trigger", "started_by", "config_digest",
// "started_at", "submitted_at", "ready_at", "finished_at", "planned_at", "snapshot_time" and
// "timings_seconds": {to_submit, to_ready, to_download_complete, total_rto, snapshot_age_rpo}
// (null where the run never got there).
boost::json::object run_finished_document(const state::run_record& run);
// link_expiring: "file", "job_id", "expires" — a READY link will expire before its file is
// downloaded.
boost::json::object link_expiring_document(const std::string& policy,
                                           const std::string& run_id,
                                           const std::string& job_id,
                                           const std::string& file,
                                           const std::string& expires);
// reload_failed: "error" (why the new configuration was refused), "config_digest" (the one that
// stays in force). policy and run_id are null.
boost::json::object reload_failed_document(const std::string& why, const std::string& digest_in_force);

struct notifier_options {
    schedule::backoff_config retry;  // full jitter between attempts
    int max_attempts = 8;            // per notification and webhook
    std::size_t max_queued = 256;    // per webhook; beyond it an event is dropped (and counted)
    std::chrono::milliseconds request_timeout{10'000};
    std::chrono::milliseconds connect_timeout{10'000};
};

struct notifier_stats {
    std::uint64_t delivered = 0;
    std::uint64_t failed = 0;  // given up, dropped or undeliverable
    std::uint64_t attempts = 0;
};

class notifier {
  public:
    // One HTTPS transport per webhook. Fails only when a webhook's tls.ca_file cannot be loaded.
    static result<std::unique_ptr<notifier>> create(boost::asio::any_io_executor executor,
                                                    const std::vector<config::notify_target>& targets,
                                                    std::optional<http::proxy_settings> proxy,
                                                    config::environment env,
                                                    metrics::recorder& metrics,
                                                    notifier_options options = {});
    // Destroying the notifier does not drop events already queued: their deliveries finish on the
    // executor (a reload replaces the notifier without losing notifications). stop() drops them.
    ~notifier();
    notifier(const notifier&) = delete;
    notifier& operator=(const notifier&) = delete;

    // Queues `document` for every webhook subscribed to `kind`. Never blocks, never throws.
    void publish(config::notify_event kind, boost::json::object document);

    // True when no event is queued or being delivered (a delivery waiting to retry counts as
    // being delivered). At SIGTERM the daemon waits a bounded time for this before stop().
    bool idle() const;
    // Events queued or being delivered, over all webhooks.
    std::size_t pending() const;

    // Cancels pending retries and drops queued events.
    void stop();

    std::size_t webhooks() const;
    notifier_stats stats() const;  // over all webhooks

  private:
    struct target_state;
    notifier() = default;
    std::vector<std::shared_ptr<target_state>> targets_;
};

// The host of a webhook URL, for log lines ("hooks.slack.com"); "(unreadable URL)" if it cannot
// be parsed. Never returns the path or the query.
std::string webhook_host(const std::string& url);

}  // namespace atlas_restored::notify
