#pragma once
// The fake Atlas as a pure function of its state: handle() takes one HTTP request, the connection
// it came on and the time, and returns the reply (possibly with a fault for the server to act
// out). No sockets and no clock inside, so tests drive it with a manual clock; main.cpp wires it to
// http::server with the real clock.

#include "fake_atlas/model.hpp"
#include "fake_atlas/options.hpp"
#include "http/message.hpp"
#include "http/server.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace atlas_restored::fake_atlas {

struct request_context {
    std::uint64_t connection_id = 0;  // 1-based, one per TLS connection
    std::uint64_t request_index = 0;  // 1-based within the connection
};

class world {
  public:
    // `start` dates the snapshots and checkpoints (they lie before it).
    world(world_options options, time_point start);
    world(const world&) = delete;
    world& operator=(const world&) = delete;

    http::reply handle(const http::request& req, const request_context& ctx, time_point now);

    // Where links and download URLs point ("https://127.0.0.1:PORT"); known once the port is.
    void set_base_url(std::string url) { options_.base_url = std::move(url); }
    const std::string& base_url() const { return options_.base_url; }

    // The control API's operations, also callable directly.
    result<void> add_faults(const std::vector<fault_spec>& faults, time_point now);
    boost::json::object counters_json() const;
    boost::json::object request_log_json(std::uint64_t since) const;
    boost::json::object jobs_json(time_point now) const;
    void reset_counters();

    // Read-only views for tests.
    const std::map<std::string, job_model>& jobs() const { return jobs_; }
    const counters_model& counters() const { return counters_; }
    // The newest request log entry (redacted), or null.
    const log_entry* last_request() const { return log_.empty() ? nullptr : &log_.back(); }
    std::vector<std::string> snapshot_ids(const std::string& group_id, const std::string& cluster) const;
    std::vector<std::string> checkpoint_ids(const std::string& group_id, const std::string& cluster) const;

    // Called by the download body stream (after handle() returned).
    void on_download_bytes(std::uint64_t n) { counters_.download_bytes += n; }
    void on_download_complete(const std::string& job_id, const std::optional<std::string>& sha1, bool wrong);
    // What the wrong_hash fault reports instead of a file's real SHA-1.
    static std::string wrong_hash_of(const std::string& sha1);

  private:
    struct call;
    struct principal {
        std::string org;   // "*" without auth
        std::string kind;  // api_key, service_account, none
        std::string id;
    };
    struct auth_outcome {
        std::optional<principal> who;
        http::reply denial;
    };
    struct page_params {
        std::int64_t page_num = 1;
        std::int64_t items_per_page = 100;
        bool include_count = true;
    };

    // world.cpp: routing, rendering, faults, counters, control API
    http::reply dispatch(call& c);
    http::reply api(call& c);
    http::reply control(const http::request& req, time_point now);
    http::reply json_reply(const call& c, int status, boost::json::value body, bool is_list) const;
    // Atlas's error body; `envelope` false for the layers in front of the application (auth, rate
    // limiter, injected faults), whose answers keep their real status.
    http::reply error_reply(const call& c,
                            int status,
                            std::string_view error_code,
                            std::string detail,
                            bool envelope = true) const;
    std::optional<fault_spec> take_fault(std::string_view method, std::string_view path);
    http::reply apply_fault_before(call& c, const fault_spec& f);
    void apply_fault_after(call& c, const fault_spec& f, http::reply& r);
    void apply_job_fault(const fault_spec& f, job_model& j, time_point now, bool immediate);
    void record(const call& c, const http::reply& r);
    http::reply list_reply(const call& c, std::vector<boost::json::value> items, const page_params& p) const;

    // world_auth.cpp
    auth_outcome authenticate(call& c);
    auth_outcome verify_digest(call& c, std::string_view params);
    auth_outcome verify_bearer(call& c, std::string_view token);
    http::reply challenge(const call& c, bool stale, std::string detail);
    http::reply unauthorized(const call& c, std::string detail, std::optional<std::string> www_authenticate);
    http::reply token_endpoint(call& c);
    http::reply revoke_endpoint(call& c);
    std::optional<http::reply> rate_limit(call& c, const std::string& group_id);

    // world_jobs.cpp
    http::reply create_jobs(call& c, const cluster_model& cl, const principal& who);
    http::reply list_jobs(call& c, const cluster_model& cl, const page_params& p);
    http::reply get_job(call& c, const cluster_model& cl, const std::string& job_id);
    http::reply list_snapshots(call& c, const cluster_model& cl, const page_params& p);
    http::reply get_snapshot(call& c, const cluster_model& cl, const std::string& id);
    http::reply list_checkpoints(call& c, const cluster_model& cl, const page_params& p);
    http::reply get_checkpoint(call& c, const cluster_model& cl, const std::string& id);
    boost::json::object render_job(const job_model& j, time_point now) const;
    boost::json::object render_snapshot(const snapshot_model& s) const;
    boost::json::object render_checkpoint(const checkpoint_model& k) const;
    const cluster_model* find_cluster(const std::string& group_id, const std::string& name) const;

    // world_download.cpp
    http::reply download(call& c);

    std::string new_object_id(time_point when);
    std::string new_secret(std::size_t bytes);
    std::string new_hex(std::size_t bytes);
    void random_bytes(std::span<unsigned char> out);

    world_options options_;
    std::uint64_t file_size_ = 0;                // every restore file's size
    std::chrono::milliseconds clock_offset_{0};  // POST /_fake/advance
    std::mt19937_64 fallback_rng_{0x5eed};
    std::uint64_t id_counter_ = 0;

    std::map<std::string, std::string> group_org_;
    std::map<std::pair<std::string, std::string>, cluster_model> clusters_;
    std::map<std::string, credential_spec> api_keys_;
    std::map<std::string, credential_spec> service_accounts_;
    std::vector<snapshot_model> snapshots_;
    std::vector<checkpoint_model> checkpoints_;
    std::map<std::string, job_model> jobs_;
    std::uint64_t job_seq_ = 0;
    std::map<std::string, nonce_model> nonces_;
    std::map<std::string, token_model> tokens_;
    std::map<std::string, std::deque<time_point>> token_requests_;  // per client id, last minute
    std::map<std::string, bucket_model> buckets_;
    std::vector<active_fault> faults_;
    counters_model counters_;
    std::deque<log_entry> log_;
    std::uint64_t log_seq_ = 0;
};

}  // namespace atlas_restored::fake_atlas
