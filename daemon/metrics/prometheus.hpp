#pragma once
// The recorder the daemon exports: counters, gauges and one histogram with bounded label sets,
// rendered as Prometheus text format 0.0.4 by render(). Recording and rendering take a mutex, so
// the run engine, the download code and the /metrics handler may live on different threads.
//
// Bounded labels: `outcome` is one of known_outcomes() (anything else is counted as "other"),
// `status` one of the Atlas job statuses (else "other"), `code_class` one of 2xx 3xx 4xx 5xx error,
// and at most max_policies distinct `policy` values (further ones are folded into "_other"), so a
// misbehaving caller cannot grow the scrape without bound.

#include "metrics/metrics.hpp"
#include "metrics/text_format.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace atlas_restored::metrics {

// run_duration_seconds bucket bounds: restores take minutes to many hours.
inline constexpr std::array<double, 11> run_duration_buckets = {
    60, 300, 600, 1'800, 3'600, 7'200, 14'400, 21'600, 43'200, 64'800, 86'400};

// "succeeded", "cancelled" and the failure reason codes of SPEC §3.
const std::vector<std::string>& known_outcomes();

// "2xx", "3xx", "4xx", "5xx", or "error" for a transport failure (0) or anything outside 200..599.
std::string_view code_class(int status);

struct recorder_options {
    std::size_t max_policies = 500;
    // config_last_reload_timestamp_seconds before the first config_reloaded() call: when the
    // configuration in force was loaded (at start-up, a successful load is the only way to get here).
    std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
    // Bytes the database library holds right now (its page cache and prepared statements), read
    // at each scrape; exported as sqlite_memory_bytes when set. The soak tells a cache filling up
    // from a leak with it (docs/reliability.md).
    std::function<std::int64_t()> sqlite_memory_bytes;
    // Bytes allocated on the heap and not freed (SQLite's included), read at each scrape;
    // exported as heap_in_use_bytes when set: a leak shows here even when the resident size does
    // not tell it from freed memory the allocator kept.
    std::function<std::int64_t()> heap_in_use_bytes;
};

class prometheus_recorder final : public recorder {
  public:
    explicit prometheus_recorder(recorder_options options = {});

    // recorder
    void run_finished(std::string_view policy,
                      std::string_view outcome,
                      std::chrono::duration<double> took) override;
    void jobs_by_status(std::string_view status, std::int64_t count) override;
    void http_response(int status) override;
    void retry() override;
    void download_bytes(std::string_view policy, std::uint64_t bytes) override;
    void hash_mismatch(std::string_view policy) override;
    void link_expiring(std::string_view policy) override;
    void drill_succeeded(std::string_view policy, std::chrono::system_clock::time_point at) override;
    void config_reloaded(bool ok, std::chrono::system_clock::time_point at) override;
    void active_runs(std::int64_t count) override;
    void active_downloads(std::int64_t count) override;
    void notification_failed() override;

    // How old a policy's last successful drill may get before the drill counts as overdue
    // (schedule period + jitter + deadline, say): exported as drill_max_age_seconds{policy} for the
    // dead-man's-switch alert. Call for every scheduled policy at start-up and after each reload;
    // policies not in the list lose their max-age series (their other series stay).
    void set_drill_max_ages(const std::map<std::string, std::chrono::seconds>& max_age_by_policy);

    std::vector<family> collect() const;
    std::string render() const;  // the body of GET /metrics

  private:
    struct histogram {
        std::array<std::uint64_t, run_duration_buckets.size()> buckets{};  // non-cumulative counts
        std::uint64_t count = 0;
        double sum = 0;
    };

    std::string policy_label(std::string_view policy);  // callers hold mutex_

    recorder_options options_;
    mutable std::mutex mutex_;
    std::set<std::string> policies_;  // every policy label value handed out so far
    std::map<std::pair<std::string, std::string>, std::uint64_t> runs_;  // (policy, outcome)
    std::map<std::string, std::int64_t> jobs_;                           // status
    std::map<std::string, std::uint64_t> http_;                          // code class
    std::uint64_t retries_ = 0;
    std::map<std::string, std::uint64_t> download_bytes_;
    std::map<std::string, std::uint64_t> hash_mismatches_;
    std::map<std::string, std::uint64_t> link_expiring_;
    std::map<std::string, double> last_drill_;
    std::map<std::string, double> drill_max_age_;
    std::map<std::string, histogram> durations_;
    bool reload_ok_ = true;
    double reload_at_ = 0;
    std::int64_t active_runs_ = 0;
    std::int64_t active_downloads_ = 0;
    std::uint64_t notifications_failed_ = 0;
};

}  // namespace atlas_restored::metrics
