#pragma once
// The Atlas restore-job client: the calls of SPEC §1 over the HTTPS transport, with either auth
// mode, GET retries with backoff and full jitter, Retry-After honoured, and a create that is never
// sent twice blindly. Protocol decisions live in protocol/digest/oauth (pure); this is the I/O shell.

#include "atlas/protocol.hpp"
#include "atlas/types.hpp"
#include "http/client.hpp"
#include "util/error.hpp"
#include "util/time.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace atlas_restored::atlas {

struct credentials {
    enum class kind { service_account, api_key };
    kind type = kind::service_account;
    std::string id;      // client id or public key
    std::string secret;  // client secret or private key: in memory only, never logged
};

struct retry_policy {
    std::chrono::milliseconds initial{1000};
    double multiplier = 2.0;
    std::chrono::milliseconds max{120'000};
    std::chrono::milliseconds give_up_after{3'600'000};
    int max_attempts = 8;  // per call, first attempt included
};

struct client_settings {
    http::origin api;  // from atlas.base_url
    api_settings api_options;
    credentials auth;
    retry_policy retry;
    // How far before our own clock a job's `created` may be and still count as ours when a create
    // is reconciled (the two clocks differ).
    std::chrono::seconds clock_skew{120};
};

struct client_stats {
    std::uint64_t calls = 0;           // API calls made by callers
    std::uint64_t http_exchanges = 0;  // HTTP requests sent (challenges and retries included)
    std::uint64_t token_requests = 0;
    std::uint64_t retries = 0;
    std::uint64_t reconciliations = 0;
    // Atlas's RateLimit-* headers from the latest answer that carried them (absent headers are
    // normal: "Atlas may not always return response headers").
    http::rate_limit_info last_rate_limit;
};

// What a create produced: the jobs (all of a sharded batch), and whether they were adopted from a
// listing after an ambiguous failure instead of read from the create's own answer.
struct create_outcome {
    std::vector<restore_job> jobs;
    bool adopted = false;
    int posts_sent = 0;
};

// True when `job` can be the job a create of `request` made at or after `not_before`: same restore
// point and delivery (AUTOMATED_RESTORE jobs report methodName HTTP, so targets are compared).
bool job_matches_request(const restore_job& job,
                         const create_restore_job_request& request,
                         sys_time not_before);

// The create-retry rules, pure so they are tested without sockets. A create may be repeated only
// when the failure proves nothing was created (429 or a RATE_LIMITED error code, a connect failure
// before any byte was written); it is ambiguous (list before anything else) after a timeout or
// reset once the request was sent, or any other 5xx — 503 included, which a gateway may send after
// the create took effect.
bool create_provably_not_applied(const error& e);
bool create_ambiguous(const error& e);
// Worth another try of an idempotent call (TLS failures never are).
bool is_retryable(const error& e);

class client {
  public:
    client(http::https_client http, client_settings settings);

    // POST …/restoreJobs. Retried only when the answer proves nothing was created (429, 503, a
    // connect failure before anything was written). After an ambiguous failure the cluster's jobs
    // are listed and matching ones created since `intent_time` are adopted; the POST is repeated
    // only when that listing succeeded and found none.
    boost::asio::awaitable<result<create_outcome>> create_restore_job(std::string group_id,
                                                                      std::string cluster_name,
                                                                      create_restore_job_request request,
                                                                      sys_time intent_time);

    // Jobs that match `request` created at or after `not_before` (the reconcile step on its own,
    // for a daemon that restarts after a crash between intent and answer).
    boost::asio::awaitable<result<std::vector<restore_job>>> find_created_jobs(
        std::string group_id,
        std::string cluster_name,
        create_restore_job_request request,
        sys_time not_before);

    // Every page, followed to the end. With batch_id: that batch only.
    boost::asio::awaitable<result<std::vector<restore_job>>> list_restore_jobs(
        std::string group_id, std::string cluster_name, std::optional<std::string> batch_id);
    boost::asio::awaitable<result<restore_job>> get_restore_job(std::string group_id,
                                                                std::string cluster_name,
                                                                std::string job_id);
    boost::asio::awaitable<result<std::vector<snapshot>>> list_snapshots(std::string group_id,
                                                                         std::string cluster_name);
    boost::asio::awaitable<result<std::vector<checkpoint>>> list_checkpoints(std::string group_id,
                                                                             std::string cluster_name);

    // The newest completed snapshot, for `latest_snapshot`.
    boost::asio::awaitable<result<snapshot>> latest_snapshot(std::string group_id, std::string cluster_name);

    const client_stats& stats() const;
    http::https_client& transport();
    const client_settings& settings() const;
    void set_api_options(api_settings options);  // envelope / pretty / version for later calls

  private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace atlas_restored::atlas
