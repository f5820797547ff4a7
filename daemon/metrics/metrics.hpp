#pragma once
// The daemon's metric set (SPEC §4), names prefixed atlas_restored_, bounded label sets (policy,
// outcome/reason code, job status, HTTP status class). Everything that records goes through this
// interface; metrics/prometheus.* renders it as Prometheus text format 0.0.4.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace atlas_restored::metrics {

class recorder {
  public:
    virtual ~recorder() = default;

    // A run ended: outcome "succeeded" or a failure reason code ("job_broken", …).
    virtual void run_finished(std::string_view policy,
                              std::string_view outcome,
                              std::chrono::duration<double> took) = 0;
    // Jobs currently tracked, by Atlas statusName (set per poll).
    virtual void jobs_by_status(std::string_view status, std::int64_t count) = 0;
    // Every HTTP answer (or transport failure: status 0) from Atlas or a download host.
    virtual void http_response(int status) = 0;
    virtual void retry() = 0;
    virtual void download_bytes(std::string_view policy, std::uint64_t bytes) = 0;
    virtual void hash_mismatch(std::string_view policy) = 0;
    virtual void link_expiring(std::string_view policy) = 0;
    // The dead-man's switch: unix time of the last successful drill of a policy.
    virtual void drill_succeeded(std::string_view policy, std::chrono::system_clock::time_point at) = 0;
    virtual void config_reloaded(bool ok, std::chrono::system_clock::time_point at) = 0;
    virtual void active_runs(std::int64_t count) = 0;
    virtual void active_downloads(std::int64_t count) = 0;
    virtual void notification_failed() = 0;
};

// Discards everything: for commands and tests that don't export metrics.
class null_recorder final : public recorder {
  public:
    void run_finished(std::string_view, std::string_view, std::chrono::duration<double>) override {}
    void jobs_by_status(std::string_view, std::int64_t) override {}
    void http_response(int) override {}
    void retry() override {}
    void download_bytes(std::string_view, std::uint64_t) override {}
    void hash_mismatch(std::string_view) override {}
    void link_expiring(std::string_view) override {}
    void drill_succeeded(std::string_view, std::chrono::system_clock::time_point) override {}
    void config_reloaded(bool, std::chrono::system_clock::time_point) override {}
    void active_runs(std::int64_t) override {}
    void active_downloads(std::int64_t) override {}
    void notification_failed() override {}
};

}  // namespace atlas_restored::metrics
