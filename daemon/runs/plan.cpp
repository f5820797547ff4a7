#include "runs/plan.hpp"

#include "atlas/client.hpp"
#include "atlas/json.hpp"
#include "atlas/validation.hpp"
#include "config/loader.hpp"
#include "runs/batch.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace atlas_restored::runs {
namespace {

error refused(std::string sentence) {
    return make_error(errc::invalid_input, std::move(sentence));
}

std::optional<sys_time> created_time(const atlas::snapshot& s) {
    if (!s.created) {
        return std::nullopt;
    }
    return parse_iso8601(s.created->date);
}

std::uint64_t total_file_bytes(const atlas::snapshot& s) {
    std::uint64_t total = 0;
    for (const auto& part : s.parts) {
        total += static_cast<std::uint64_t>(std::max<std::int64_t>(part.file_size_bytes.value_or(0), 0));
    }
    return total;
}

}  // namespace

const atlas::snapshot* newest_complete_snapshot(const std::vector<atlas::snapshot>& snapshots) {
    const atlas::snapshot* newest = nullptr;
    std::optional<sys_time> newest_time;
    for (const auto& s : snapshots) {
        const auto t = created_time(s);
        if (!s.complete || !t) {
            continue;
        }
        if (!newest_time || *t > *newest_time) {
            newest = &s;
            newest_time = t;
        }
    }
    return newest;
}

result<submission_plan> plan_submission(const config::policy& policy,
                                        const std::vector<atlas::snapshot>& snapshots,
                                        sys_time now) {
    submission_plan plan;
    plan.request = config::to_create_request(policy);
    const auto where = "cluster " + policy.cluster + " of project " + policy.group_id;

    // The snapshot the restore starts from: the one restored, or for a point in time, an oplog
    // position or a checkpoint, the newest one (an estimate of the size to expect).
    const atlas::snapshot* source = newest_complete_snapshot(snapshots);
    switch (policy.point.kind) {
        case config::restore_point_kind::latest_snapshot:
            if (source == nullptr) {
                return refused(where + " has no completed snapshot to restore");
            }
            plan.request.snapshot_id = source->id;
            plan.snapshot_id = source->id;
            plan.snapshot_time = source->created->date;
            break;
        case config::restore_point_kind::snapshot_id: {
            auto it = std::find_if(snapshots.begin(), snapshots.end(), [&](const atlas::snapshot& s) {
                return s.id == policy.point.snapshot_id;
            });
            if (it == snapshots.end() || !it->complete) {
                return refused("snapshot " + policy.point.snapshot_id +
                               " is not among the completed snapshots of " + where);
            }
            source = &*it;
            plan.snapshot_id = it->id;
            if (it->created) {
                plan.snapshot_time = it->created->date;
            }
            break;
        }
        case config::restore_point_kind::point_in_time:
            plan.snapshot_time =
                format_iso8601(from_unix_millis(policy.point.point_in_time_utc_millis), true);
            break;
        case config::restore_point_kind::oplog:
            if (auto t = parse_iso8601(policy.point.oplog_ts)) {
                plan.snapshot_time = format_iso8601(*t, true);
            }
            break;
        case config::restore_point_kind::checkpoint_id:
            break;  // a checkpoint's time needs another call; the report then has no RPO
    }

    const auto& d = policy.delivery;
    if (d.method == atlas::delivery_method::automated_restore) {
        if (!d.target_cluster_name) {
            return refused(
                "AUTOMATED_RESTORE erases its target, and delivery.confirm_overwrite can only be compared "
                "with the target's name: set delivery.target_cluster_name (only target_cluster_id " +
                d.target_cluster_id.value_or("") + " is given, whose name these API calls cannot look up)");
        }
        if (d.confirm_overwrite != d.target_cluster_name) {
            return refused("AUTOMATED_RESTORE erases target cluster " + *d.target_cluster_name +
                           ", and delivery.confirm_overwrite does not repeat that name");
        }
    }

    auto problems = atlas::validate_target(policy.group_id, policy.cluster);
    auto body = atlas::validate_create_request(plan.request, now);
    problems.insert(problems.end(), body.begin(), body.end());
    if (!problems.empty()) {
        std::string text = "the create request would be refused: ";
        for (std::size_t i = 0; i < problems.size(); ++i) {
            text += (i ? "; " : "") + problems[i].field + " " + problems[i].message;
        }
        return refused(text);
    }

    if (source != nullptr) {
        plan.expected_bytes = total_file_bytes(*source);
        if (needs_download(d.method)) {
            for (const auto& part : source->parts) {
                const auto bytes =
                    static_cast<std::uint64_t>(std::max<std::int64_t>(part.file_size_bytes.value_or(0), 0));
                if (bytes > policy.download.max_file_bytes) {
                    return refused("a part of snapshot " + source->id + " is " + std::to_string(bytes) +
                                   " bytes, more than download.max_file_bytes (" +
                                   std::to_string(policy.download.max_file_bytes) + ")");
                }
            }
        }
    }

    auto point = atlas::to_json(plan.request);
    point.erase("delivery");
    plan.restore_point_json = boost::json::serialize(point);
    return plan;
}

std::optional<std::string> free_space_problem(std::uint64_t needed,
                                              std::uint64_t available,
                                              const std::string& directory) {
    constexpr std::uint64_t min_margin = std::uint64_t{64} << 20;
    const std::uint64_t margin = std::max(min_margin, needed / 100);
    if (available >= needed && available - needed >= margin) {
        return std::nullopt;
    }
    return directory + " has " + std::to_string(available) + " bytes free; the snapshot's files need " +
           std::to_string(needed) + " bytes plus a margin of " + std::to_string(margin);
}

std::vector<atlas::restore_job> pick_created_jobs(
    std::vector<atlas::restore_job> listed,
    const atlas::create_restore_job_request& request,
    sys_time not_before,
    const std::function<bool(const std::string& job_id)>& owned) {
    std::vector<atlas::restore_job> matches;
    for (auto& job : listed) {
        if (atlas::job_matches_request(job, request, not_before) && !owned(job.id)) {
            matches.push_back(std::move(job));
        }
    }
    if (matches.size() <= 1) {
        return matches;
    }
    const auto created = [](const atlas::restore_job& j) { return parse_iso8601(j.created.value_or("")); };
    const auto newest = std::max_element(matches.begin(), matches.end(), [&](const auto& a, const auto& b) {
        return created(a) < created(b);
    });
    const auto batch = newest->batch_id;
    const auto id = newest->id;
    std::erase_if(matches,
                  [&](const atlas::restore_job& j) { return batch ? j.batch_id != batch : j.id != id; });
    return matches;
}

std::string request_body_json(const atlas::create_restore_job_request& request) {
    return boost::json::serialize(atlas::to_json(request));
}

result<atlas::create_restore_job_request> parse_request_body_json(std::string_view json_text) {
    boost::system::error_code ec;
    auto v = boost::json::parse(json_text, ec);
    if (ec) {
        return make_error(errc::bad_response, "a stored create request is not JSON: " + ec.message());
    }
    return atlas::parse_create_restore_job_request(v);
}

}  // namespace atlas_restored::runs
