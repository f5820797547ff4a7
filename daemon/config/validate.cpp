// The cross-field rules: each policy's create request through the seed validation, plus the rules
// that only make sense for policies (confirm_overwrite, unique names, known profiles).

#include "atlas/types.hpp"
#include "atlas/validation.hpp"
#include "config/loader.hpp"
#include "util/time.hpp"

#include <map>
#include <set>

namespace atlas_restored::config {

namespace {

// Stands in for the snapshot `latest_snapshot` picks at run time, so the rest of the request can be
// checked now.
constexpr const char* placeholder_snapshot_id = "000000000000000000000000";

// API field name (as atlas::field_error reports it) -> the YAML key path inside a policy.
std::string yaml_path_of(const std::string& api_field, const policy& p) {
    static const std::map<std::string, std::string> names = {
        {"groupId", "group_id"},
        {"clusterName", "cluster"},
        {"snapshotId", "restore_point.snapshot_id"},
        {"checkpointId", "restore_point.checkpoint_id"},
        {"oplogTs", "restore_point.oplog.ts"},
        {"oplogInc", "restore_point.oplog.inc"},
        {"pointInTimeUTCMillis", "restore_point.point_in_time_utc_millis"},
        {"delivery", "delivery"},
        {"delivery.methodName", "delivery.method"},
        {"delivery.expirationHours", "delivery.expiration_hours"},
        {"delivery.maxDownloads", "delivery.max_downloads"},
        {"delivery.targetGroupId", "delivery.target_group_id"},
        {"delivery.targetClusterName", "delivery.target_cluster_name"},
        {"delivery.targetClusterId", "delivery.target_cluster_id"},
    };
    if (api_field == "snapshotId" && p.point.kind == restore_point_kind::latest_snapshot) {
        return "restore_point.latest_snapshot";
    }
    auto it = names.find(api_field);
    return it == names.end() ? std::string() : it->second;
}

std::string policy_path(const policy& p) {
    return "policies[" + std::to_string(p.index) + "]";
}

// The line of a key inside the policy, or of its nearest written parent, or of the policy.
int line_of(const policy& p, std::string relative) {
    while (!relative.empty()) {
        if (auto it = p.key_lines.find(relative); it != p.key_lines.end()) {
            return it->second;
        }
        auto dot = relative.rfind('.');
        relative = dot == std::string::npos ? std::string() : relative.substr(0, dot);
    }
    return p.where.line;
}

class policy_checker {
  public:
    // `known`: fields (relative to the policy) that already have a problem from parsing.
    policy_checker(const policy& p, std::vector<config_problem>& out, std::set<std::string> known)
        : p_(p), out_(out), reported_(std::move(known)) {}

    // One problem per field: a rule checked here and by the seed validation is reported once, and
    // nothing below a field that already has a problem (its value is missing or meaningless).
    void add(const std::string& relative, std::string message) {
        for (std::string at = relative; !at.empty();) {
            if (reported_.contains(at)) {
                return;
            }
            auto dot = at.rfind('.');
            at = dot == std::string::npos ? std::string() : at.substr(0, dot);
        }
        if (relative.empty() && reported_.contains(relative)) {
            return;
        }
        reported_.insert(relative);
        std::string path = policy_path(p_) + (relative.empty() ? "" : "." + relative);
        out_.push_back({p_.where.file, line_of(p_, relative), 0, path, std::move(message)});
    }

  private:
    const policy& p_;
    std::vector<config_problem>& out_;
    std::set<std::string> reported_;
};

}  // namespace

atlas::create_restore_job_request to_create_request(const policy& p) {
    atlas::create_restore_job_request r;
    switch (p.point.kind) {
        case restore_point_kind::latest_snapshot:
            break;  // the caller sets the snapshot it resolved at run time
        case restore_point_kind::snapshot_id:
            r.snapshot_id = p.point.snapshot_id;
            break;
        case restore_point_kind::point_in_time:
            r.point_in_time_utc_millis = p.point.point_in_time_utc_millis;
            break;
        case restore_point_kind::oplog:
            r.oplog_ts = p.point.oplog_ts;
            r.oplog_inc = p.point.oplog_inc;
            break;
        case restore_point_kind::checkpoint_id:
            r.checkpoint_id = p.point.checkpoint_id;
            break;
    }
    r.delivery.method_name = p.delivery.method;
    r.delivery.expiration_hours = p.delivery.expiration_hours;
    r.delivery.max_downloads = p.delivery.max_downloads;
    r.delivery.target_group_id = p.delivery.target_group_id;
    r.delivery.target_cluster_name = p.delivery.target_cluster_name;
    r.delivery.target_cluster_id = p.delivery.target_cluster_id;
    return r;
}

namespace detail {

std::vector<config_problem> validate_policies(const configuration& c,
                                              std::chrono::system_clock::time_point now,
                                              const std::vector<std::set<std::string>>& known_problems) {
    std::vector<config_problem> out;
    std::map<std::string, const policy*> names;
    std::set<std::string> profiles;
    for (const auto& pr : c.profiles) {
        profiles.insert(pr.name);
    }
    for (std::size_t i = 0; i < c.policies.size(); ++i) {
        const policy& p = c.policies[i];
        policy_checker check(p, out, i < known_problems.size() ? known_problems[i] : std::set<std::string>{});

        if (!p.name.empty()) {
            if (auto [it, inserted] = names.emplace(p.name, &p); !inserted) {
                check.add("name",
                          "duplicate policy name '" + p.name + "' (first defined at " +
                              it->second->where.file + ":" + std::to_string(it->second->where.line) +
                              "); names are unique across all files");
            }
        }
        if (p.profile && !profiles.contains(*p.profile)) {
            std::string message = "unknown profile '" + *p.profile + "' in policy '" + p.name + "'";
            std::string best;
            std::size_t best_distance = 3;
            for (const auto& name : profiles) {
                if (auto d = edit_distance(*p.profile, name); d < best_distance) {
                    best = name;
                    best_distance = d;
                }
            }
            if (!best.empty()) {
                message += "; did you mean '" + best + "'?";
            } else if (profiles.empty()) {
                message += " (no profiles: are configured)";
            }
            check.add("profile", message);
        }

        const delivery_settings& d = p.delivery;
        const bool automated = d.method == atlas::delivery_method::automated_restore;
        if (p.point.kind == restore_point_kind::checkpoint_id && !automated) {
            check.add("restore_point.checkpoint_id",
                      "is only allowed with delivery.method AUTOMATED_RESTORE (sharded clusters), not " +
                          (d.method.empty() ? std::string("no method") : d.method));
        }
        if (automated) {
            if (!d.target_group_id) {
                check.add("delivery.target_group_id",
                          "is required with AUTOMATED_RESTORE (the project of the cluster to restore into)");
            }
            if (!d.target_cluster_name && !d.target_cluster_id) {
                check.add("delivery.target_cluster_name",
                          "AUTOMATED_RESTORE needs a target: target_cluster_name or target_cluster_id");
            }
            if (!d.confirm_overwrite) {
                check.add(
                    "delivery.confirm_overwrite",
                    "is required with AUTOMATED_RESTORE, which erases the target cluster: repeat the target "
                    "cluster's name here" +
                        (d.target_cluster_name ? " ('" + *d.target_cluster_name + "')" : std::string()));
            } else if (d.target_cluster_name && *d.confirm_overwrite != *d.target_cluster_name) {
                check.add("delivery.confirm_overwrite",
                          "must equal delivery.target_cluster_name ('" + *d.target_cluster_name +
                              "'): AUTOMATED_RESTORE erases that cluster");
            }
        } else if (d.confirm_overwrite) {
            check.add("delivery.confirm_overwrite", "is only used with AUTOMATED_RESTORE");
        }

        // The seed's rules, on the request this policy would send. A point in time is checked
        // against a `now` just after it: the 24-hour window depends on when the run starts.
        auto request = to_create_request(p);
        if (p.point.kind == restore_point_kind::latest_snapshot) {
            request.snapshot_id = placeholder_snapshot_id;
        }
        auto check_now = now;
        if (p.point.kind == restore_point_kind::point_in_time) {
            check_now = from_unix_millis(p.point.point_in_time_utc_millis) + std::chrono::minutes(1);
        }
        auto errors = atlas::validate_target(p.group_id, p.cluster);
        auto body = atlas::validate_create_request(request, check_now);
        errors.insert(errors.end(), body.begin(), body.end());
        for (const auto& e : errors) {
            std::string path = yaml_path_of(e.field, p);
            check.add(path, path.empty() && !e.field.empty() ? e.field + ": " + e.message : e.message);
        }
    }
    return out;
}

}  // namespace detail

std::vector<config_problem> validate_policies(const configuration& c,
                                              std::chrono::system_clock::time_point now) {
    return detail::validate_policies(c, now, {});
}

}  // namespace atlas_restored::config
