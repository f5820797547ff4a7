#pragma once
// Deliveries to disk (SPEC §4 Deliveries): one restore job's file streamed from its delivery link
// into download_dir/<policy>/<run-id>/<file>.partial through the transport's fixed buffer, hashed
// (SHA-1) as it arrives, resumed with Range after a cut (and after a restart), and renamed into
// place only when the hash matches the job's hashes entry. Every GET is counted durably before it
// is sent; the delivery's maxDownloads and expires decide whether another attempt may be spent.
//
// Links (url, urlV2, authValue) are secrets: they come fresh from Atlas for every attempt (the
// caller's reread_job), are never stored and never logged (only the host and the file name are).

#include "atlas/types.hpp"
#include "http/client.hpp"
#include "metrics/metrics.hpp"
#include "state/store.hpp"
#include "util/error.hpp"
#include "util/time.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace atlas_restored::download {

// What the run engine shows while a file downloads (status, the systemd STATUS= line).
struct download_progress {
    std::string run_id;
    std::string job_id;
    std::string file_name;
    std::uint64_t bytes_done = 0;
    std::optional<std::uint64_t> bytes_total;  // once the server announced it
    double bytes_per_second = 0;               // this attempt's average so far
    int attempt = 0;                           // download GETs counted for this file
    bool done = false;                         // the fetch is over (whatever the outcome)
};

struct file_plan {
    std::string policy;
    std::string run_id;
    std::string job_id;
    std::filesystem::path directory;  // download_dir/<policy>/<run-id>
    std::uint64_t max_file_bytes = std::uint64_t{1} << 40;
    bool delete_on_mismatch = false;  // download.on_mismatch: delete (true) or keep as .corrupt
    std::chrono::milliseconds idle_timeout{60'000};  // per read of the body
    std::chrono::milliseconds hash_wait{120'000};    // bounded wait for hashes to appear
    // Added fields (defaults fit the daemon; tests shorten them).
    std::optional<std::uint64_t> expected_bytes;    // e.g. the snapshot part's fileSizeBytes
    std::chrono::milliseconds retry_initial{1000};  // backoff after a failed attempt (full jitter)
    std::chrono::milliseconds retry_max{30'000};
    std::chrono::milliseconds hash_poll_initial{500};  // first re-read while waiting for hashes
    // Consecutive attempts that gain no bytes before the download gives up (delivery_failed).
    int max_failures_without_progress = 6;
    std::uint64_t progress_every_bytes = 64ull << 20;           // progress stored every 64 MiB …
    std::chrono::milliseconds progress_every{2000};             // … or 2 s, whichever comes first
    std::function<sys_time()> clock;                            // unset: system_clock::now
    std::function<void(const download_progress&)> on_progress;  // at most about once a second
    // Once per fetch, when the link will expire before the file is downloaded (the
    // atlas_restored_link_expiring_total warning): the server's file name and the link's expiry.
    std::function<void(const std::string& file, const std::string& expires)> on_link_expiring;
};

struct file_result {
    bool verified = false;
    std::string file_name;
    std::filesystem::path path;  // the placed file when verified; otherwise the .partial/.corrupt
    std::uint64_t bytes = 0;
    std::string sha1;           // of the bytes obtained (40 lower-case hex) when complete
    std::string expected_sha1;  // from the job's hashes, when known
    std::string reason;         // SPEC reason code when failed, empty on success and when interrupted
    std::string message;        // a human sentence, no secrets
    // Added fields.
    bool interrupted = false;  // stopped by cancellation (shutdown): no verdict, resumable
    int attempts = 0;          // download GETs counted for this file (all processes)
};

// Re-reads the job from Atlas (client::get_restore_job): fresh links and, after a download, hashes.
using reread_job_fn = std::function<boost::asio::awaitable<result<atlas::restore_job>>()>;

class downloader {
  public:
    downloader(http::https_client& transport, state::store& store, metrics::recorder& metrics);

    // Downloads and verifies one job's file. `job` is a recent read of the job (its delivery READY);
    // later attempts and the hash check use reread_job. Resumes from the state database and the
    // .partial file if an earlier process got part of the way; a file already verified is reported
    // as such without a download. Failures come back in file_result (reason + message), not as
    // exceptions; cancellation returns interrupted with the progress stored.
    boost::asio::awaitable<file_result> fetch(file_plan plan,
                                              atlas::restore_job job,
                                              reread_job_fn reread_job);

    // Fetches in progress in this process, over every downloader instance (the engine may make one
    // per file); fetch() sets the active_downloads gauge to it.
    static int active_downloads();

  private:
    http::https_client& transport_;
    state::store& store_;
    metrics::recorder& metrics_;
};

}  // namespace atlas_restored::download
