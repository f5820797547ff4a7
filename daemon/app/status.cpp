#include "app/status.hpp"

#include "app/notify.hpp"
#include "util/time.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>
#include <sstream>

namespace atlas_restored::app {

namespace json = boost::json;

std::string outcome_of(const state::run_record& run) {
    if (run.state == state::run_state::failed) {
        const auto colon = run.error.find(':');
        if (run.error.empty() || colon == 0) {
            return "failed";
        }
        return colon == std::string::npos ? run.error : run.error.substr(0, colon);
    }
    return run.state;
}

namespace {

bool is_sha1_hex(const std::string& s) {
    return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

json::value time_or_null(const std::optional<std::int64_t>& millis) {
    if (!millis) {
        return nullptr;
    }
    return json::value(format_iso8601(from_unix_millis(*millis)));
}

json::value time_or_null(const std::optional<std::chrono::system_clock::time_point>& t) {
    if (!t) {
        return nullptr;
    }
    return json::value(format_iso8601(*t));
}

json::value string_or_null(const std::optional<std::string>& s) {
    if (!s || s->empty()) {
        return nullptr;
    }
    return json::value(*s);
}

json::value string_or_null(const std::string& s) {
    if (s.empty()) {
        return nullptr;
    }
    return json::value(s);
}

std::string file_name_of(const state::file_record& f, const std::vector<state::job_record>& jobs) {
    if (!f.file_name.empty()) {
        return f.file_name;
    }
    for (const auto& j : jobs) {
        if (j.job_id == f.job_id && j.file_name) {
            return *j.file_name;
        }
    }
    return {};
}

struct progress {
    std::uint64_t done = 0;
    std::uint64_t total = 0;  // 0: unknown
    int files = 0;
    int verified = 0;
};

progress progress_of(const run_details& d) {
    progress p;
    bool total_known = true;
    for (const auto& f : d.files) {
        ++p.files;
        p.verified += f.verified ? 1 : 0;
        p.done += static_cast<std::uint64_t>(std::max<std::int64_t>(f.bytes_done, 0));
        if (f.bytes_expected) {
            p.total += static_cast<std::uint64_t>(std::max<std::int64_t>(*f.bytes_expected, 0));
        } else {
            total_known = false;
        }
    }
    if (!total_known) {
        p.total = 0;
    }
    return p;
}

// How fast a run in `downloading` is going: bytes so far over the time since its jobs were READY
// (an average, which also covers bytes from before a restart), and the time left at that rate.
struct pace {
    std::optional<double> bytes_per_second;
    std::optional<std::int64_t> eta_seconds;
};

pace pace_of(const run_details& d, const progress& p, std::chrono::system_clock::time_point now) {
    if (d.run.state != state::run_state::downloading || !d.run.ready_at || p.done == 0) {
        return {};
    }
    const double elapsed = std::chrono::duration<double>(now - from_unix_millis(*d.run.ready_at)).count();
    if (elapsed < 1.0) {
        return {};  // too early to say anything useful
    }
    pace out;
    out.bytes_per_second = static_cast<double>(p.done) / elapsed;
    if (p.total > p.done) {
        out.eta_seconds =
            static_cast<std::int64_t>(static_cast<double>(p.total - p.done) / *out.bytes_per_second + 0.5);
    }
    return out;
}

json::object run_json(const run_details& d, std::chrono::system_clock::time_point now) {
    const auto& r = d.run;
    json::object o;
    o["id"] = r.id;
    o["policy"] = r.policy;
    o["trigger"] = r.trigger;
    o["started_by"] = string_or_null(r.started_by);
    o["state"] = r.state;
    o["outcome"] = state::is_final_run_state(r.state) ? json::value(outcome_of(r)) : json::value(nullptr);
    json::array job_ids;
    for (const auto& j : d.jobs) {
        job_ids.push_back(json::value(j.job_id));
    }
    o["job_ids"] = std::move(job_ids);
    o["batch_id"] = string_or_null(r.batch_id);
    json::array files;
    for (const auto& f : d.files) {
        json::object fo;
        fo["name"] = file_name_of(f, d.jobs);
        fo["job_id"] = f.job_id;
        fo["bytes"] = f.bytes_expected ? *f.bytes_expected : f.bytes_done;
        fo["bytes_done"] = f.bytes_done;
        const auto* sha1 = f.sha1_actual && is_sha1_hex(*f.sha1_actual)       ? &*f.sha1_actual
                           : f.sha1_expected && is_sha1_hex(*f.sha1_expected) ? &*f.sha1_expected
                                                                              : nullptr;
        fo["sha1"] = sha1 ? json::value(*sha1) : json::value(nullptr);
        fo["verified"] = f.verified;
        fo["state"] = f.state;
        fo["attempts"] = f.attempts;
        files.push_back(std::move(fo));
    }
    o["files"] = std::move(files);
    o["error"] = string_or_null(r.error);
    o["submitted_at"] = time_or_null(r.submitted_at);
    o["finished_at"] = time_or_null(r.finished_at);
    // Extras: the audit trail and the timings behind RTO/RPO.
    o["planned_at"] = time_or_null(r.planned_at);
    o["created_at"] = time_or_null(r.created_at);
    o["ready_at"] = time_or_null(r.ready_at);
    o["downloaded_at"] = time_or_null(r.downloaded_at);
    o["group_id"] = r.group_id;
    o["cluster"] = r.cluster;
    o["method"] = r.method;
    o["snapshot_id"] = string_or_null(r.snapshot_id);
    o["snapshot_time"] = string_or_null(r.snapshot_time);
    o["config_digest"] = string_or_null(r.config_digest);
    o["submissions"] = r.submissions;
    json::array jobs;
    for (const auto& j : d.jobs) {
        json::object jo;
        jo["id"] = j.job_id;
        jo["status"] = j.status_name;
        jo["delivery_status"] = string_or_null(j.delivery_status);
        jo["delivery_method"] = string_or_null(j.delivery_method);
        jo["expires"] = string_or_null(j.expires);
        jo["max_downloads"] = j.max_downloads ? json::value(*j.max_downloads) : json::value(nullptr);
        jobs.push_back(std::move(jo));
    }
    o["jobs"] = std::move(jobs);
    const auto p = progress_of(d);
    json::object po;
    po["bytes_done"] = p.done;
    po["bytes_total"] = p.total > 0 ? json::value(p.total) : json::value(nullptr);
    po["files"] = p.files;
    po["files_verified"] = p.verified;
    const auto speed = pace_of(d, p, now);
    po["rate_bytes_per_second"] = speed.bytes_per_second
                                      ? json::value(static_cast<std::int64_t>(*speed.bytes_per_second))
                                      : json::value(nullptr);
    po["eta_seconds"] = speed.eta_seconds ? json::value(*speed.eta_seconds) : json::value(nullptr);
    o["download"] = std::move(po);
    return o;
}

// Per policy: the facts status shows, from the runs alone. Copies, not pointers: the runs go by
// one at a time (write_status), and only these few are kept.
struct policy_facts {
    std::optional<run_details> last_finished;
    std::optional<run_details> last_succeeded;
    std::optional<run_details> active;  // the newest unfinished run
};

// Finished runs are ordered by finished_at, then by insertion (as the store's
// last_finished_run_for_policy does); a later run without finished_at never counts as finished.
bool finished_later(const run_details& candidate, const std::optional<run_details>& current) {
    return !current || candidate.run.finished_at.value_or(0) >= current->run.finished_at.value_or(0);
}

// The facts of every policy that has runs, from the runs given oldest first.
class policy_digest {
  public:
    void add(const run_details& d) {
        auto& f = facts_[d.run.policy];
        if (state::is_final_run_state(d.run.state)) {
            if (finished_later(d, f.last_finished)) {
                f.last_finished = d;
            }
            if (d.run.state == state::run_state::succeeded && finished_later(d, f.last_succeeded)) {
                f.last_succeeded = d;
            }
        } else {
            f.active = d;
        }
    }

    const policy_facts& of(const std::string& policy) const {
        static const policy_facts none;
        const auto it = facts_.find(policy);
        return it == facts_.end() ? none : it->second;
    }

  private:
    std::map<std::string, policy_facts> facts_;
};

std::optional<std::chrono::system_clock::time_point> next_fire_of(const config::policy& p,
                                                                  std::chrono::system_clock::time_point now) {
    if (!p.schedule) {
        return std::nullopt;
    }
    return p.schedule->next_after(now, p.zone.get());
}

json::array policies_json(const policy_digest& digest,
                          const config::configuration* configuration,
                          std::chrono::system_clock::time_point now) {
    json::array policies;
    if (!configuration) {
        return policies;
    }
    for (const auto& p : configuration->policies) {
        const auto& f = digest.of(p.name);
        json::object o;
        o["name"] = p.name;
        o["last_outcome"] =
            f.last_finished ? json::value(outcome_of(f.last_finished->run)) : json::value(nullptr);
        o["next_fire_time"] = time_or_null(next_fire_of(p, now));
        o["schedule"] = p.schedule ? json::value(p.schedule->text()) : json::value(nullptr);
        o["timezone"] = p.timezone;
        o["trigger"] = string_or_null(p.trigger);
        o["last_run_id"] = f.last_finished ? json::value(f.last_finished->run.id) : json::value(nullptr);
        o["last_error"] = f.last_finished ? string_or_null(f.last_finished->run.error) : json::value(nullptr);
        o["last_finished_at"] = f.last_finished ? time_or_null(f.last_finished->run.finished_at) : nullptr;
        o["last_drill_at"] = f.last_succeeded ? time_or_null(f.last_succeeded->run.finished_at) : nullptr;
        if (f.active) {
            const auto pr = progress_of(*f.active);
            json::object a;
            a["id"] = f.active->run.id;
            a["state"] = f.active->run.state;
            a["trigger"] = f.active->run.trigger;
            a["bytes_done"] = pr.done;
            a["bytes_total"] = pr.total > 0 ? json::value(pr.total) : json::value(nullptr);
            o["active_run"] = std::move(a);
        } else {
            o["active_run"] = nullptr;
        }
        policies.push_back(std::move(o));
    }
    return policies;
}

// {"runs":[…],"policies":[…]} written as the runs go by: one run's document at a time in memory,
// not 100,000 of them (770 MiB, docs/performance.md).
class json_status_writer {
  public:
    json_status_writer(std::ostream& out, std::chrono::system_clock::time_point now) : out_(out), now_(now) {
        out_ << "{\"runs\":[";
    }

    void add(const run_details& d) {
        out_ << (first_ ? "" : ",") << json::serialize(run_json(d, now_));
        first_ = false;
        digest_.add(d);
    }

    void finish(const config::configuration* configuration) {
        out_ << "],\"policies\":" << json::serialize(policies_json(digest_, configuration, now_)) << "}";
    }

  private:
    std::ostream& out_;
    std::chrono::system_clock::time_point now_;
    bool first_ = true;
    policy_digest digest_;
};

}  // namespace

boost::json::object status_document(const status_snapshot& snapshot,
                                    const config::configuration* configuration,
                                    std::chrono::system_clock::time_point now) {
    std::ostringstream text;
    json_status_writer writer(text, now);
    for (const auto& d : snapshot.runs) {
        writer.add(d);
    }
    writer.finish(configuration);
    return json::parse(text.str()).as_object();
}

std::string format_age(std::chrono::system_clock::duration age) {
    using namespace std::chrono;
    const auto s = duration_cast<seconds>(age).count();
    if (s < 0) {
        return "in the future";
    }
    if (s < 120) {
        return std::to_string(s) + "s";
    }
    if (s < 2 * 3600) {
        return std::to_string(s / 60) + "m";
    }
    if (s < 2 * 86400) {
        return std::to_string(s / 3600) + "h";
    }
    return std::to_string(s / 86400) + "d";
}

namespace {

std::string pad(std::string text, std::size_t width) {
    if (text.size() < width) {
        text.append(width - text.size(), ' ');
    }
    return text;
}

std::string progress_text(const run_details& d, std::chrono::system_clock::time_point now) {
    const auto p = progress_of(d);
    if (p.files == 0) {
        return {};
    }
    const auto speed = pace_of(d, p, now);
    const std::string text = progress_summary(p.done, p.total, speed.bytes_per_second.value_or(0.0));
    return text + ", " + std::to_string(p.verified) + "/" + std::to_string(p.files) + " files verified";
}

std::string who_started(const state::run_record& r) {
    if (r.started_by.empty()) {
        return r.trigger;
    }
    return r.trigger + " by " + r.started_by;
}

// The human status: the policy table, then the most recent runs. The runs go by one at a time
// and only the last `recent_runs` are kept.
class text_status_writer {
  public:
    explicit text_status_writer(std::size_t recent_runs) : recent_runs_(recent_runs) {}

    void add(const run_details& d) {
        digest_.add(d);
        ++runs_seen_;
        if (recent_runs_ == 0) {
            return;
        }
        if (recent_.size() == recent_runs_) {
            recent_.pop_front();
        }
        recent_.push_back(d);
    }

    std::string finish(const std::optional<state::reload_record>& last_reload,
                       const config::configuration* configuration,
                       const std::optional<daemon_liveness>& daemon,
                       std::chrono::system_clock::time_point now) const;

  private:
    std::size_t recent_runs_;
    std::size_t runs_seen_ = 0;
    std::deque<run_details> recent_;
    policy_digest digest_;
};

std::string text_status_writer::finish(const std::optional<state::reload_record>& last_reload,
                                       const config::configuration* configuration,
                                       const std::optional<daemon_liveness>& daemon,
                                       std::chrono::system_clock::time_point now) const {
    std::ostringstream out;
    if (daemon) {
        out << "daemon: " << (daemon->running ? "running" : "not running");
        if (!daemon->detail.empty()) {
            out << " (" << daemon->detail << ")";
        }
        out << "\n";
    }
    if (last_reload) {
        const auto& r = *last_reload;
        out << "last reload: " << (r.ok ? "ok" : "FAILED") << " at "
            << format_iso8601(from_unix_millis(r.at));
        if (!r.ok && !r.message.empty()) {
            out << ": " << r.message;
        }
        out << "\n";
    }
    if (configuration) {
        std::size_t name_width = 6;
        for (const auto& p : configuration->policies) {
            name_width = std::max(name_width, p.name.size());
        }
        out << "\n"
            << pad("POLICY", name_width + 2) << pad("LAST OUTCOME", 28) << pad("LAST OK", 10)
            << pad("NEXT FIRE", 23) << "ACTIVE\n";
        for (const auto& p : configuration->policies) {
            const auto& f = digest_.of(p.name);
            std::string last = f.last_finished ? outcome_of(f.last_finished->run) : "-";
            std::string age = "-";
            if (f.last_succeeded && f.last_succeeded->run.finished_at) {
                age = format_age(now - from_unix_millis(*f.last_succeeded->run.finished_at)) + " ago";
            }
            const auto next = next_fire_of(p, now);
            std::string next_text =
                next ? format_iso8601(*next) : (p.trigger ? "trigger only" : "run-now only");
            std::string active = "-";
            if (f.active) {
                active = f.active->run.state + " " + f.active->run.id;
                const auto pr = progress_text(*f.active, now);
                if (!pr.empty()) {
                    active += " " + pr;
                }
            }
            out << pad(p.name, name_width + 2) << pad(last, 28) << pad(age, 10) << pad(next_text, 23)
                << active << "\n";
        }
    }
    out << "\n";
    if (runs_seen_ == 0) {
        out << "no runs yet\n";
        return out.str();
    }
    const auto older = runs_seen_ - recent_.size();
    out << "recent runs (oldest first";
    if (older > 0) {
        out << ", " << older << " older not shown; --json lists all";
    }
    out << "):\n";
    for (const auto& d : recent_) {
        const auto& r = d.run;
        out << r.id << "  " << r.policy << "  " << who_started(r) << "  " << r.state;
        if (r.planned_at && r.trigger == "schedule") {
            out << "  planned " << format_iso8601(from_unix_millis(*r.planned_at));  // with its jitter
        }
        if (r.submitted_at) {
            out << "  submitted " << format_iso8601(from_unix_millis(*r.submitted_at));
        }
        if (r.finished_at) {
            out << "  finished " << format_iso8601(from_unix_millis(*r.finished_at));
        }
        if (!d.jobs.empty()) {
            out << "  jobs " << d.jobs.size();
        }
        const auto pr = progress_text(d, now);
        if (!pr.empty()) {
            out << "  " << pr;
        }
        if (!r.error.empty()) {
            out << "\n    error: " << r.error;
        }
        out << "\n";
    }
    return out.str();
}

}  // namespace

std::string status_text(const status_snapshot& snapshot,
                        const config::configuration* configuration,
                        const std::optional<daemon_liveness>& daemon,
                        std::chrono::system_clock::time_point now,
                        std::size_t recent_runs) {
    text_status_writer writer(recent_runs);
    for (const auto& d : snapshot.runs) {
        writer.add(d);
    }
    return writer.finish(snapshot.last_reload, configuration, daemon, now);
}

result<void> write_status(state::store& store,
                          const config::configuration* configuration,
                          const std::optional<daemon_liveness>& daemon,
                          bool as_json,
                          std::chrono::system_clock::time_point now,
                          std::ostream& out) {
    if (as_json) {
        json_status_writer writer(out, now);
        auto read = store.for_each_run_with_details([&](run_details&& d) -> result<void> {
            writer.add(d);
            return {};
        });
        if (!read) {
            return read;
        }
        writer.finish(configuration);
        out << "\n";
        return {};
    }
    auto reload = store.last_reload();
    if (!reload) {
        return reload.error();
    }
    text_status_writer writer(10);
    auto read = store.for_each_run_with_details([&](run_details&& d) -> result<void> {
        writer.add(d);
        return {};
    });
    if (!read) {
        return read;
    }
    out << writer.finish(*reload, configuration, daemon, now);
    return {};
}

}  // namespace atlas_restored::app
