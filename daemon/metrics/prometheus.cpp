#include "metrics/prometheus.hpp"

#include <algorithm>

namespace atlas_restored::metrics {
namespace {

constexpr std::string_view prefix = "atlas_restored_";
constexpr std::string_view other_policy = "_other";
constexpr std::string_view other_value = "other";

const std::array<std::string_view, 4> job_statuses = {"IN_PROGRESS", "BROKEN", "KILLED", "FINISHED"};
const std::array<std::string_view, 5> code_classes = {"2xx", "3xx", "4xx", "5xx", "error"};

double unix_seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

family make_family(std::string_view name, metric_type type, std::string help) {
    family f;
    f.name = std::string(prefix) + std::string(name);
    f.type = type;
    f.help = std::move(help);
    return f;
}

template <class Value>
void add_by_policy(family& f, const std::map<std::string, Value>& values) {
    for (const auto& [policy, value] : values) {
        f.samples.push_back({"", {{"policy", policy}}, static_cast<double>(value)});
    }
}

}  // namespace

const std::vector<std::string>& known_outcomes() {
    static const std::vector<std::string> outcomes = {
        "succeeded",
        "cancelled",
        "preflight_failed",
        "submit_failed",
        "job_broken",
        "job_killed",
        "delivery_failed",
        "delivery_interrupted",
        "link_expired",
        "download_budget_exhausted",
        "sha1_mismatch",
        "disk_full",
        "after_download_failed",
        "deadline_exceeded",
    };
    return outcomes;
}

std::string_view code_class(int status) {
    if (status >= 200 && status < 600) {
        return code_classes[static_cast<std::size_t>(status / 100 - 2)];
    }
    return "error";
}

prometheus_recorder::prometheus_recorder(recorder_options options)
    : options_(std::move(options)), reload_at_(unix_seconds(options_.started)) {
    // Series that exist from the first scrape, so rate() and alerts see a zero instead of nothing.
    for (auto status : job_statuses) {
        jobs_[std::string(status)] = 0;
    }
    for (auto cls : code_classes) {
        http_[std::string(cls)] = 0;
    }
}

std::string prometheus_recorder::policy_label(std::string_view policy) {
    std::string name(policy);
    if (policies_.contains(name)) {
        return name;
    }
    if (policies_.size() >= options_.max_policies) {
        return std::string(other_policy);
    }
    policies_.insert(name);
    return name;
}

void prometheus_recorder::run_finished(std::string_view policy,
                                       std::string_view outcome,
                                       std::chrono::duration<double> took) {
    const auto& known = known_outcomes();
    const bool is_known = std::find(known.begin(), known.end(), outcome) != known.end();
    std::lock_guard lock(mutex_);
    std::string p = policy_label(policy);
    ++runs_[{p, std::string(is_known ? outcome : other_value)}];

    const double seconds = std::max(0.0, took.count());
    auto& h = durations_[p];
    const auto bucket = std::lower_bound(run_duration_buckets.begin(), run_duration_buckets.end(), seconds);
    if (bucket != run_duration_buckets.end()) {
        ++h.buckets[static_cast<std::size_t>(bucket - run_duration_buckets.begin())];
    }
    ++h.count;
    h.sum += seconds;
}

void prometheus_recorder::jobs_by_status(std::string_view status, std::int64_t count) {
    const bool is_known = std::find(job_statuses.begin(), job_statuses.end(), status) != job_statuses.end();
    std::lock_guard lock(mutex_);
    jobs_[std::string(is_known ? status : other_value)] = count;
}

void prometheus_recorder::http_response(int status) {
    std::lock_guard lock(mutex_);
    ++http_[std::string(code_class(status))];
}

void prometheus_recorder::retry() {
    std::lock_guard lock(mutex_);
    ++retries_;
}

void prometheus_recorder::download_bytes(std::string_view policy, std::uint64_t bytes) {
    std::lock_guard lock(mutex_);
    download_bytes_[policy_label(policy)] += bytes;
}

void prometheus_recorder::hash_mismatch(std::string_view policy) {
    std::lock_guard lock(mutex_);
    ++hash_mismatches_[policy_label(policy)];
}

void prometheus_recorder::link_expiring(std::string_view policy) {
    std::lock_guard lock(mutex_);
    ++link_expiring_[policy_label(policy)];
}

void prometheus_recorder::drill_succeeded(std::string_view policy, std::chrono::system_clock::time_point at) {
    std::lock_guard lock(mutex_);
    // The newest success wins: seeding from the state database after a live success (or two runs
    // finishing out of order) must not move the dead-man's switch backwards.
    auto [it, inserted] = last_drill_.try_emplace(policy_label(policy), unix_seconds(at));
    if (!inserted) {
        it->second = std::max(it->second, unix_seconds(at));
    }
}

void prometheus_recorder::config_reloaded(bool ok, std::chrono::system_clock::time_point at) {
    std::lock_guard lock(mutex_);
    reload_ok_ = ok;
    reload_at_ = unix_seconds(at);
}

void prometheus_recorder::active_runs(std::int64_t count) {
    std::lock_guard lock(mutex_);
    active_runs_ = count;
}

void prometheus_recorder::active_downloads(std::int64_t count) {
    std::lock_guard lock(mutex_);
    active_downloads_ = count;
}

void prometheus_recorder::notification_failed() {
    std::lock_guard lock(mutex_);
    ++notifications_failed_;
}

void prometheus_recorder::set_drill_max_ages(
    const std::map<std::string, std::chrono::seconds>& max_age_by_policy) {
    std::lock_guard lock(mutex_);
    drill_max_age_.clear();
    for (const auto& [policy, age] : max_age_by_policy) {
        drill_max_age_[policy_label(policy)] = static_cast<double>(age.count());
    }
}

std::vector<family> prometheus_recorder::collect() const {
    std::lock_guard lock(mutex_);
    std::vector<family> out;

    auto& runs = out.emplace_back(make_family(
        "runs_total",
        metric_type::counter,
        "Finished runs by policy and outcome (succeeded, cancelled or the failure reason code)."));
    for (const auto& [key, value] : runs_) {
        runs.samples.push_back(
            {"", {{"policy", key.first}, {"outcome", key.second}}, static_cast<double>(value)});
    }

    auto& jobs = out.emplace_back(make_family(
        "jobs", metric_type::gauge, "Atlas restore jobs tracked by unfinished runs, by job statusName."));
    for (const auto& [status, value] : jobs_) {
        jobs.samples.push_back({"", {{"status", status}}, static_cast<double>(value)});
    }

    auto& http = out.emplace_back(make_family(
        "http_requests_total",
        metric_type::counter,
        "HTTP answers from Atlas and download hosts by status class; error: no answer (transport failure)."));
    for (auto cls : code_classes) {
        http.samples.push_back(
            {"", {{"code_class", std::string(cls)}}, static_cast<double>(http_.at(std::string(cls)))});
    }

    auto& retries = out.emplace_back(
        make_family("retries_total", metric_type::counter, "Retried Atlas API calls and download attempts."));
    retries.samples.push_back({"", {}, static_cast<double>(retries_)});

    auto& bytes = out.emplace_back(make_family(
        "download_bytes_total", metric_type::counter, "Bytes of restore files downloaded, by policy."));
    add_by_policy(bytes, download_bytes_);

    auto& mismatches =
        out.emplace_back(make_family("hash_mismatches_total",
                                     metric_type::counter,
                                     "Downloaded files whose SHA1 differed from Atlas's hash."));
    add_by_policy(mismatches, hash_mismatches_);

    auto& expiring =
        out.emplace_back(make_family("link_expiring_total",
                                     metric_type::counter,
                                     "Download links about to expire or run out of downloads unused."));
    add_by_policy(expiring, link_expiring_);

    auto& last_drill = out.emplace_back(make_family(
        "last_successful_drill_timestamp_seconds",
        metric_type::gauge,
        "Unix time of the last successful drill of a policy (the dead-man's switch for drills)."));
    add_by_policy(last_drill, last_drill_);

    auto& max_age = out.emplace_back(
        make_family("drill_max_age_seconds",
                    metric_type::gauge,
                    "How old the last successful drill of a scheduled policy may be before it is overdue."));
    add_by_policy(max_age, drill_max_age_);

    auto& duration = out.emplace_back(make_family("run_duration_seconds",
                                                  metric_type::histogram,
                                                  "Duration of finished runs (any outcome), by policy."));
    for (const auto& [policy, h] : durations_) {
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < run_duration_buckets.size(); ++i) {
            cumulative += h.buckets[i];
            duration.samples.push_back({"_bucket",
                                        {{"policy", policy}, {"le", format_value(run_duration_buckets[i])}},
                                        static_cast<double>(cumulative)});
        }
        duration.samples.push_back(
            {"_bucket", {{"policy", policy}, {"le", "+Inf"}}, static_cast<double>(h.count)});
        duration.samples.push_back({"_sum", {{"policy", policy}}, h.sum});
        duration.samples.push_back({"_count", {{"policy", policy}}, static_cast<double>(h.count)});
    }

    auto& reload_ok =
        out.emplace_back(make_family("config_last_reload_successful",
                                     metric_type::gauge,
                                     "1 if the last configuration load or reload succeeded, else 0."));
    reload_ok.samples.push_back({"", {}, reload_ok_ ? 1.0 : 0.0});

    auto& reload_at =
        out.emplace_back(make_family("config_last_reload_timestamp_seconds",
                                     metric_type::gauge,
                                     "Unix time of the last configuration load or reload attempt."));
    reload_at.samples.push_back({"", {}, reload_at_});

    auto& runs_now = out.emplace_back(make_family("active_runs", metric_type::gauge, "Runs in flight."));
    runs_now.samples.push_back({"", {}, static_cast<double>(active_runs_)});

    auto& downloads_now =
        out.emplace_back(make_family("active_downloads", metric_type::gauge, "Downloads in progress."));
    downloads_now.samples.push_back({"", {}, static_cast<double>(active_downloads_)});

    auto& notifications = out.emplace_back(make_family("notifications_failed_total",
                                                       metric_type::counter,
                                                       "Webhook notifications that could not be delivered."));
    notifications.samples.push_back({"", {}, static_cast<double>(notifications_failed_)});

    if (options_.sqlite_memory_bytes) {
        auto& sqlite = out.emplace_back(make_family(
            "sqlite_memory_bytes",
            metric_type::gauge,
            "Memory the state database library holds (page cache, statements); bounded by its cache size."));
        sqlite.samples.push_back({"", {}, static_cast<double>(options_.sqlite_memory_bytes())});
    }

    if (options_.heap_in_use_bytes) {
        auto& heap =
            out.emplace_back(make_family("heap_in_use_bytes",
                                         metric_type::gauge,
                                         "Heap memory allocated and not freed, the database's included."));
        heap.samples.push_back({"", {}, static_cast<double>(options_.heap_in_use_bytes())});
    }

    auto& build = out.emplace_back(make_family(
        "build_info", metric_type::gauge, "Always 1; the version label names the running build."));
    build.samples.push_back({"", {{"version", ATLAS_RESTORED_VERSION}}, 1.0});
    return out;
}

std::string prometheus_recorder::render() const {
    return metrics::render(collect());
}

}  // namespace atlas_restored::metrics
