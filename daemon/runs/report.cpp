#include "runs/report.hpp"

#include "runs/machine.hpp"
#include "util/time.hpp"

#include <boost/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace atlas_restored::runs {
namespace {

namespace json = boost::json;

json::value iso_or_null(const std::optional<std::int64_t>& millis) {
    if (!millis) {
        return nullptr;
    }
    return json::string(format_iso8601(from_unix_millis(*millis), true));
}

json::value seconds_between(const std::optional<std::int64_t>& from, const std::optional<std::int64_t>& to) {
    if (!from || !to) {
        return nullptr;
    }
    return static_cast<double>(*to - *from) / 1000.0;
}

std::optional<std::int64_t> snapshot_millis(const state::run_record& run) {
    if (!run.snapshot_time) {
        return std::nullopt;
    }
    auto t = parse_iso8601(*run.snapshot_time);
    if (!t) {
        return std::nullopt;
    }
    return to_unix_millis(*t);
}

json::object origin_of(const state::run_record& run) {
    json::object o;
    if (run.trigger == "schedule") {
        o["kind"] = "schedule";
        o["planned_at"] = iso_or_null(run.planned_at);
    } else if (run.trigger == "manual") {
        o["kind"] = "run-now";
        o["user"] = run.started_by.empty() ? json::value(nullptr) : json::value(run.started_by);
    } else {
        o["kind"] = "trigger";
        o["value"] = run.trigger;
    }
    return o;
}

// "1h2m", "3m4s", "5.2s": short and exact enough for a log line.
std::string short_duration(std::int64_t millis) {
    if (millis < 0) {
        millis = 0;
    }
    char text[48];
    const std::int64_t s = millis / 1000;
    if (s < 60) {
        std::snprintf(text, sizeof text, "%.1fs", static_cast<double>(millis) / 1000.0);
    } else if (s < 3600) {
        std::snprintf(
            text, sizeof text, "%lldm%llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
    } else {
        std::snprintf(text,
                      sizeof text,
                      "%lldh%lldm",
                      static_cast<long long>(s / 3600),
                      static_cast<long long>((s % 3600) / 60));
    }
    return text;
}

result<void> fsync_path(const std::filesystem::path& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) {
        return make_error(errc::io_failed, "cannot open " + path.string() + ": " + std::strerror(errno));
    }
    const int rc = ::fsync(fd);
    const int e = errno;
    ::close(fd);
    if (rc != 0) {
        return make_error(errc::io_failed, "cannot fsync " + path.string() + ": " + std::strerror(e));
    }
    return {};
}

}  // namespace

json::object build_report(const state::run_record& run,
                          const std::vector<state::job_record>& jobs,
                          const std::vector<state::file_record>& files) {
    json::object r;
    r["run_id"] = run.id;
    r["policy"] = run.policy;
    r["outcome"] = run.state;
    const auto why = reason_of(run.error);
    r["reason"] = why ? json::value(to_string(*why)) : json::value(nullptr);
    r["error"] = run.error.empty() ? json::value(nullptr) : json::value(run.error);
    r["started_by"] = origin_of(run);
    r["config_digest"] = run.config_digest;
    r["group_id"] = run.group_id;
    r["cluster"] = run.cluster;
    r["method"] = run.method;
    {
        boost::system::error_code ec;
        auto point = json::parse(run.restore_point_json, ec);
        r["restore_point"] = ec ? json::value(run.restore_point_json) : point;
    }
    json::object snapshot;
    snapshot["id"] = run.snapshot_id ? json::value(*run.snapshot_id) : json::value(nullptr);
    snapshot["time"] = run.snapshot_time ? json::value(*run.snapshot_time) : json::value(nullptr);
    r["snapshot"] = std::move(snapshot);
    r["batch_id"] = run.batch_id ? json::value(*run.batch_id) : json::value(nullptr);
    r["submissions"] = run.submissions;

    json::array job_list;
    for (const auto& j : jobs) {
        json::object o;
        o["id"] = j.job_id;
        o["submission"] = j.submission_no;
        o["batch_id"] = j.batch_id ? json::value(*j.batch_id) : json::value(nullptr);
        o["status"] = j.status_name;
        o["delivery_status"] = j.delivery_status ? json::value(*j.delivery_status) : json::value(nullptr);
        o["file_name"] = j.file_name ? json::value(*j.file_name) : json::value(nullptr);
        job_list.push_back(std::move(o));
    }
    r["jobs"] = std::move(job_list);

    json::array file_list;
    for (const auto& f : files) {
        json::object o;
        o["name"] = f.file_name;
        o["job_id"] = f.job_id;
        o["bytes"] = f.bytes_done;
        o["sha1"] = f.sha1_actual ? json::value(*f.sha1_actual) : json::value(nullptr);
        o["verified"] = f.verified;
        o["download_attempts"] = f.attempts;
        file_list.push_back(std::move(o));
    }
    r["files"] = std::move(file_list);

    json::object times;
    times["created_at"] = iso_or_null(run.created_at);
    times["submitted_at"] = iso_or_null(run.submitted_at);
    times["ready_at"] = iso_or_null(run.ready_at);
    times["downloaded_at"] = iso_or_null(run.downloaded_at);
    times["finished_at"] = iso_or_null(run.finished_at);
    r["times"] = std::move(times);

    r["timings_seconds"] = run_timings(run);
    return r;
}

json::object run_timings(const state::run_record& run) {
    json::object timings;
    timings["to_submit"] = seconds_between(run.created_at, run.submitted_at);
    timings["to_ready"] = seconds_between(run.created_at, run.ready_at);
    timings["to_download_complete"] = seconds_between(run.created_at, run.downloaded_at);
    timings["total_rto"] = seconds_between(run.created_at, run.finished_at);
    // How old the restored data was when the run started: the drill's recovery point.
    timings["snapshot_age_rpo"] = seconds_between(snapshot_millis(run), run.created_at);
    return timings;
}

json::value iso_time_or_null(const std::optional<std::int64_t>& unix_millis) {
    return iso_or_null(unix_millis);
}

std::filesystem::path report_path(const std::filesystem::path& reports_dir, const state::run_record& run) {
    return reports_dir / run.policy / (run.id + ".json");
}

result<void> write_report(const std::filesystem::path& reports_dir,
                          const state::run_record& run,
                          const json::object& report) {
    const auto path = report_path(reports_dir, run);
    const auto dir = path.parent_path();
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        return make_error(errc::io_failed, "cannot create " + dir.string() + ": " + ec.message());
    }
    const auto tmp = dir / ("." + run.id + ".json.tmp");
    const std::string text = json::serialize(report) + "\n";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        return make_error(errc::io_failed, "cannot create " + tmp.string() + ": " + std::strerror(errno));
    }
    std::size_t written = 0;
    while (written < text.size()) {
        const auto n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            return make_error(errc::io_failed, "cannot write " + tmp.string() + ": " + std::strerror(e));
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        return make_error(errc::io_failed, "cannot flush " + tmp.string() + ": " + std::strerror(e));
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        ::unlink(tmp.c_str());
        return make_error(errc::io_failed,
                          "cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message());
    }
    return fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

std::string summary_line(const state::run_record& run) {
    std::string origin = run.trigger == "schedule" ? "schedule"
                         : run.trigger == "manual"
                             ? "run-now" + (run.started_by.empty() ? "" : " by " + run.started_by)
                             : "trigger " + run.trigger;
    std::string line = "run " + run.id + " of policy " + run.policy + " (" + origin + ") " + run.state;
    if (run.created_at && run.finished_at) {
        line += " in " + short_duration(*run.finished_at - *run.created_at);
    }
    std::vector<std::string> parts;
    if (run.created_at && run.submitted_at) {
        parts.push_back("submit " + short_duration(*run.submitted_at - *run.created_at));
    }
    if (run.created_at && run.ready_at) {
        parts.push_back("ready " + short_duration(*run.ready_at - *run.created_at));
    }
    if (run.created_at && run.downloaded_at) {
        parts.push_back("download " + short_duration(*run.downloaded_at - *run.created_at));
    }
    if (auto t = snapshot_millis(run); t && run.created_at) {
        parts.push_back("data " + short_duration(*run.created_at - *t) + " old");
    }
    if (!parts.empty()) {
        line += " (";
        for (std::size_t i = 0; i < parts.size(); ++i) {
            line += (i ? ", " : "") + parts[i];
        }
        line += ")";
    }
    if (!run.error.empty()) {
        line += ": " + run.error;
    }
    return line;
}

}  // namespace atlas_restored::runs
