// Restore jobs, snapshots and checkpoints: the create call's validation (written independently of
// the daemon's), the timeline, and the JSON Atlas sends for each resource.

#include "fake_atlas/call.hpp"
#include "fake_atlas/detail.hpp"
#include "fake_atlas/world.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>

namespace atlas_restored::fake_atlas {

namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr std::int64_t min_point_in_time_millis = 1199145600000;  // 2008-01-01T00:00:00Z
constexpr std::int64_t int32_max = 2147483647;

struct field_problem {
    std::string field;
    std::string description;
};

struct create_request {
    std::string method;
    std::optional<std::int64_t> expiration_hours;
    std::optional<std::int64_t> max_downloads;
    std::optional<std::string> target_group_id;
    std::optional<std::string> target_cluster_name;
    std::optional<std::string> target_cluster_id;
    std::optional<std::string> snapshot_id;
    std::optional<std::string> checkpoint_id;
    std::optional<std::string> oplog_ts;
    std::optional<std::int64_t> oplog_inc;
    std::optional<std::int64_t> point_in_time_millis;
};

std::optional<std::int64_t> integer_of(const json::value& v) {
    if (v.is_int64()) {
        return v.as_int64();
    }
    if (v.is_uint64() && v.as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        return static_cast<std::int64_t>(v.as_uint64());
    }
    return std::nullopt;
}

// BackupRestoreJob's writable fields, checked the way the API description states them. Read-only
// fields are ignored; fields the schema does not have are refused.
create_request parse_create(const json::object& body, time_point now, std::vector<field_problem>& problems) {
    create_request r;
    static const std::vector<std::string_view> writable{
        "checkpointId", "delivery", "oplogInc", "oplogTs", "pointInTimeUTCMillis", "snapshotId"};
    static const std::vector<std::string_view> read_only{"batchId",
                                                         "clusterId",
                                                         "clusterName",
                                                         "created",
                                                         "deploymentJobId",
                                                         "encryptionEnabled",
                                                         "groupId",
                                                         "hashes",
                                                         "id",
                                                         "links",
                                                         "masterKeyUUID",
                                                         "statusName",
                                                         "timestamp"};
    auto known = [](const std::vector<std::string_view>& list, std::string_view k) {
        return std::find(list.begin(), list.end(), k) != list.end();
    };
    for (const auto& [key, value] : body) {
        if (!known(writable, key) && !known(read_only, key)) {
            problems.push_back({std::string(key), "is not a field of a restore job"});
        }
    }
    auto string_field =
        [&](const json::object& o, std::string_view key, std::string path) -> std::optional<std::string> {
        const auto* v = o.if_contains(key);
        if (v == nullptr || v->is_null()) {
            return std::nullopt;
        }
        if (!v->is_string()) {
            problems.push_back({std::move(path), "must be a string"});
            return std::nullopt;
        }
        return std::string(v->as_string());
    };
    auto int_field =
        [&](const json::object& o, std::string_view key, std::string path) -> std::optional<std::int64_t> {
        const auto* v = o.if_contains(key);
        if (v == nullptr || v->is_null()) {
            return std::nullopt;
        }
        auto n = integer_of(*v);
        if (!n) {
            problems.push_back({std::move(path), "must be an integer"});
        }
        return n;
    };
    auto hex24 = [&](const std::optional<std::string>& v, const std::string& path) {
        if (v && !detail::is_hex24(*v)) {
            problems.push_back({path, "must be 24 hexadecimal digits (^([a-f0-9]{24})$)"});
        }
    };

    const auto* delivery = body.if_contains("delivery");
    if (delivery == nullptr || delivery->is_null()) {
        problems.push_back({"delivery", "is required"});
    } else if (!delivery->is_object()) {
        problems.push_back({"delivery", "must be an object"});
    } else {
        const auto& d = delivery->as_object();
        static const std::vector<std::string_view> delivery_writable{"expirationHours",
                                                                     "maxDownloads",
                                                                     "methodName",
                                                                     "targetClusterId",
                                                                     "targetClusterName",
                                                                     "targetGroupId"};
        static const std::vector<std::string_view> delivery_read_only{
            "authHeader", "authValue", "expires", "statusName", "url", "urlV2"};
        for (const auto& [key, value] : d) {
            if (!known(delivery_writable, key) && !known(delivery_read_only, key)) {
                problems.push_back({"delivery." + std::string(key), "is not a field of a delivery"});
            }
        }
        auto method = string_field(d, "methodName", "delivery.methodName");
        if (!method) {
            if (!d.contains("methodName")) {
                problems.push_back({"delivery.methodName", "is required"});
            }
        } else if (*method == "HTTP" || *method == "AUTOMATED_RESTORE" || *method == "CLIENT_PIT_HTTP") {
            r.method = *method;
        } else if (*method == "QUERY") {
            problems.push_back(
                {"delivery.methodName", "QUERY: restores of queryable snapshots cannot be created"});
        } else if (*method == "THIRD_PARTY_COPY" || *method == "SCP" || *method == "CLIENT_PIT_SCP") {
            problems.push_back({"delivery.methodName", *method + " is not supported for this cluster"});
        } else {
            problems.push_back(
                {"delivery.methodName",
                 "must be one of CLIENT_PIT_HTTP, QUERY, AUTOMATED_RESTORE, HTTP, THIRD_PARTY_COPY, "
                 "CLIENT_PIT_SCP, SCP"});
        }
        r.expiration_hours = int_field(d, "expirationHours", "delivery.expirationHours");
        if (r.expiration_hours && (*r.expiration_hours < 1 || *r.expiration_hours > int32_max)) {
            problems.push_back({"delivery.expirationHours", "must be at least 1"});
        }
        r.max_downloads = int_field(d, "maxDownloads", "delivery.maxDownloads");
        if (r.max_downloads && (*r.max_downloads < 1 || *r.max_downloads > int32_max)) {
            problems.push_back({"delivery.maxDownloads", "must be at least 1"});
        }
        r.target_group_id = string_field(d, "targetGroupId", "delivery.targetGroupId");
        r.target_cluster_name = string_field(d, "targetClusterName", "delivery.targetClusterName");
        r.target_cluster_id = string_field(d, "targetClusterId", "delivery.targetClusterId");
        hex24(r.target_group_id, "delivery.targetGroupId");
        hex24(r.target_cluster_id, "delivery.targetClusterId");
        if (r.target_cluster_name && !detail::is_cluster_name(*r.target_cluster_name)) {
            problems.push_back({"delivery.targetClusterName", "must match ^[a-zA-Z0-9][a-zA-Z0-9-]*$"});
        }
        const bool targets = r.target_group_id || r.target_cluster_name || r.target_cluster_id;
        if (r.method == "AUTOMATED_RESTORE") {
            if (!r.target_group_id) {
                problems.push_back({"delivery.targetGroupId", "is required with AUTOMATED_RESTORE"});
            }
            if (!r.target_cluster_name && !r.target_cluster_id) {
                problems.push_back(
                    {"delivery.targetClusterName",
                     "targetClusterName or targetClusterId is required with AUTOMATED_RESTORE"});
            }
        } else if (!r.method.empty() && targets) {
            problems.push_back({"delivery.targetGroupId", "target fields apply only with AUTOMATED_RESTORE"});
        }
    }

    r.snapshot_id = string_field(body, "snapshotId", "snapshotId");
    r.checkpoint_id = string_field(body, "checkpointId", "checkpointId");
    r.oplog_ts = string_field(body, "oplogTs", "oplogTs");
    r.oplog_inc = int_field(body, "oplogInc", "oplogInc");
    r.point_in_time_millis = int_field(body, "pointInTimeUTCMillis", "pointInTimeUTCMillis");
    hex24(r.snapshot_id, "snapshotId");
    hex24(r.checkpoint_id, "checkpointId");

    std::vector<std::string> points;
    if (r.snapshot_id) {
        points.push_back("snapshotId");
    }
    if (r.checkpoint_id) {
        points.push_back("checkpointId");
    }
    if (r.oplog_ts || r.oplog_inc) {
        points.push_back("oplogTs/oplogInc");
    }
    if (r.point_in_time_millis) {
        points.push_back("pointInTimeUTCMillis");
    }
    if (points.size() > 1) {
        std::string list;
        for (const auto& p : points) {
            list += (list.empty() ? "" : ", ") + p;
        }
        problems.push_back({points[1], "cannot be combined: " + list + " are mutually exclusive"});
    } else if (points.empty()) {
        problems.push_back(
            {"snapshotId",
             "one of snapshotId, checkpointId, oplogTs with oplogInc, or pointInTimeUTCMillis is required"});
    }
    if (r.checkpoint_id && !r.method.empty() && r.method != "AUTOMATED_RESTORE") {
        problems.push_back({"checkpointId", "applies only with delivery.methodName AUTOMATED_RESTORE"});
    }
    if (r.oplog_inc && *r.oplog_inc < 1) {
        problems.push_back({"oplogInc", "must be at least 1"});
    }
    if (r.oplog_inc && !r.oplog_ts) {
        problems.push_back({"oplogTs", "is required with oplogInc"});
    }
    if (r.oplog_ts && !r.oplog_inc) {
        problems.push_back({"oplogInc", "is required with oplogTs"});
    }
    if (r.oplog_ts && !detail::is_iso8601(*r.oplog_ts)) {
        problems.push_back(
            {"oplogTs", "must be an ISO 8601 date and time in UTC, like 2026-11-28T03:00:00Z"});
    }
    if (r.point_in_time_millis) {
        const auto millis =
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
        if (*r.point_in_time_millis < min_point_in_time_millis) {
            problems.push_back({"pointInTimeUTCMillis", "must be at least 1199145600000"});
        } else if (*r.point_in_time_millis < millis - 24 * 3600 * 1000LL ||
                   *r.point_in_time_millis > millis) {
            problems.push_back({"pointInTimeUTCMillis", "must fall within the last 24 hours"});
        }
    }
    return r;
}

std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 1469598103934665603ull;
    for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    return h;
}

json::object bson_timestamp(time_point t) {
    json::object o;
    o["date"] = detail::iso8601(t);
    o["increment"] = 1;
    return o;
}

json::array self_link(std::string href) {
    json::object l;
    l["href"] = std::move(href);
    l["rel"] = "self";
    return json::array{std::move(l)};
}

}  // namespace

job_view view_of(const job_model& j, time_point now, const std::optional<std::chrono::seconds>& link_ttl) {
    job_view v;
    v.expires = j.expires_override ? *j.expires_override
                : link_ttl         ? j.finishes + *link_ttl
                                   : j.finishes + std::chrono::hours(j.expiration_hours);
    if (now < j.finishes) {
        v.status = "IN_PROGRESS";
        v.delivery_status = now < j.created + (j.finishes - j.created) / 3 ? "NOT_STARTED" : "IN_PROGRESS";
        return v;
    }
    v.status = j.final_status;
    if (j.final_delivery != "READY") {
        v.delivery_status = j.final_delivery;
    } else if (j.final_status == "BROKEN") {
        v.delivery_status = "FAILED";
    } else if (j.final_status == "KILLED") {
        v.delivery_status = "INTERRUPTED";
    } else if (j.automated) {
        v.delivery_status = "READY";
    } else {
        v.link_issued = true;
        v.delivery_status = j.downloads_used >= j.max_downloads ? "MAX_DOWNLOADS_EXCEEDED"
                            : now >= v.expires                  ? "EXPIRED"
                                                                : "READY";
    }
    return v;
}

json::object world::render_job(const job_model& j, time_point now) const {
    const job_view v = view_of(j, now, options_.link_ttl);
    const std::string job_path =
        "/api/atlas/v2/groups/" + j.group_id + "/clusters/" + j.cluster_name + "/restoreJobs/" + j.id;
    json::object d;
    if (j.automated) {
        // "The response returns HTTP as an automated restore uses HTTP to deliver the restore job to
        // the target host": the request said AUTOMATED_RESTORE.
        d["methodName"] = "HTTP";
        d["statusName"] = v.delivery_status;
        if (j.target_cluster_id) {
            d["targetClusterId"] = *j.target_cluster_id;
        }
        if (j.target_cluster_name) {
            d["targetClusterName"] = *j.target_cluster_name;
        }
        if (j.target_group_id) {
            d["targetGroupId"] = *j.target_group_id;
        }
    } else {
        if (v.link_issued) {
            d["authHeader"] = options_.download_auth_header;
            d["authValue"] = j.auth_value;
        }
        d["expirationHours"] = j.expiration_hours;
        if (v.link_issued) {
            d["expires"] = detail::iso8601(v.expires);
        }
        d["maxDownloads"] = j.max_downloads;
        d["methodName"] = j.requested_method;
        d["statusName"] = v.delivery_status;
        if (v.link_issued) {
            const std::string pull = options_.base_url + "/backup/restore/v2/pull/" + j.id + "/";
            d["url"] = pull + j.auth_value + "/" + j.file_name;
            d["urlV2"] = pull + j.file_name;
        }
    }
    json::object o;
    if (!j.batch_id.empty()) {
        o["batchId"] = j.batch_id;
    }
    o["clusterId"] = j.cluster_id;
    o["clusterName"] = j.cluster_name;
    o["created"] = detail::iso8601(j.created);
    o["delivery"] = std::move(d);
    o["encryptionEnabled"] = false;
    o["groupId"] = j.group_id;
    if (j.recorded_hash && !j.automated) {
        json::object h;
        h["fileName"] = j.file_name;
        h["hash"] = *j.recorded_hash;
        h["typeName"] = "SHA1";
        o["hashes"] = json::array{std::move(h)};
    }
    o["id"] = j.id;
    o["links"] = self_link(options_.base_url + job_path);
    if (!j.snapshot_id.empty()) {
        o["snapshotId"] = j.snapshot_id;
    }
    o["statusName"] = v.status;
    o["timestamp"] = bson_timestamp(j.restore_point);
    return o;
}

json::object world::render_snapshot(const snapshot_model& s) const {
    const cluster_model* cl = find_cluster(s.group_id, s.cluster_name);
    json::array parts;
    for (const auto& p : cl->parts) {
        json::object o;
        o["clusterId"] = p.cluster_id;
        if (s.complete) {
            o["completedTime"] = detail::iso8601(s.created + 10min);
        }
        o["compressionSetting"] = "GZIP";
        o["dataSizeBytes"] = file_size_ * 3;
        o["encryptionEnabled"] = false;
        o["fcv"] = "7.0";
        if (s.complete) {
            o["fileSizeBytes"] = file_size_;  // what the restore file of this part will weigh
        }
        o["mongodVersion"] = "7.0.12";
        o["replicaSetName"] = p.replica_set_name;
        o["storageSizeBytes"] = file_size_ * 2;
        o["typeName"] = p.type_name;
        parts.push_back(std::move(o));
    }
    json::object o;
    o["clusterId"] = cl->id;
    o["clusterName"] = s.cluster_name;
    o["complete"] = s.complete;
    o["created"] = bson_timestamp(s.created);
    o["doNotDelete"] = false;
    o["expires"] = detail::iso8601(s.created + 24h * 30);
    o["groupId"] = s.group_id;
    o["id"] = s.id;
    o["incremental"] = s.incremental;
    o["lastOplogAppliedTimestamp"] = bson_timestamp(s.created);
    o["links"] = self_link(options_.base_url + "/api/atlas/v2/groups/" + s.group_id + "/clusters/" +
                           s.cluster_name + "/snapshots/" + s.id);
    o["parts"] = std::move(parts);
    return o;
}

json::object world::render_checkpoint(const checkpoint_model& k) const {
    const cluster_model* cl = find_cluster(k.group_id, k.cluster_name);
    json::array parts;
    for (const auto& p : cl->parts) {
        json::object o;
        o["replicaSetName"] = p.replica_set_name;
        o["shardName"] = p.shard_name;
        o["tokenDiscovered"] = true;
        o["tokenTimestamp"] = bson_timestamp(k.started + 30s);
        o["typeName"] = p.config ? "CONFIG_SERVER_REPLICA_SET" : "REPLICA_SET";
        parts.push_back(std::move(o));
    }
    json::object o;
    o["clusterId"] = cl->id;
    o["completed"] = detail::iso8601(k.completed);
    o["groupId"] = k.group_id;
    o["id"] = k.id;
    o["links"] = self_link(options_.base_url + "/api/atlas/v2/groups/" + k.group_id + "/clusters/" +
                           k.cluster_name + "/backupCheckpoints/" + k.id);
    o["parts"] = std::move(parts);
    o["restorable"] = true;
    o["started"] = detail::iso8601(k.started);
    o["timestamp"] = detail::iso8601(k.started + 30s);
    return o;
}

http::reply world::create_jobs(call& c, const cluster_model& cl, const principal& who) {
    const std::string media = "application/vnd.atlas." + options_.api_version + "+json";
    auto type = detail::header(c.req.headers, "Content-Type");
    if (!type || !detail::has_media_type(*type, media)) {
        return error_reply(
            c,
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "Content-Type must be " + media + " (got " + std::string(type.value_or("nothing")) + ").");
    }
    boost::system::error_code ec;
    json::value body = json::parse(c.req.body, ec);
    if (ec || !body.is_object()) {
        return error_reply(c, 400, "INVALID_JSON", "The request body is not a JSON object.");
    }
    std::vector<field_problem> problems;
    create_request r = parse_create(body.as_object(), c.now, problems);
    auto validation_error = [&](const std::vector<field_problem>& list) {
        std::string text;
        json::array fields;
        for (const auto& p : list) {
            text += (text.empty() ? "" : "; ") + p.field + " " + p.description;
            json::object f;
            f["description"] = p.description;
            f["field"] = p.field;
            fields.push_back(std::move(f));
        }
        json::object e = detail::api_error(400, "VALIDATION_ERROR", "Invalid restore job: " + text + ".");
        json::object bad;
        bad["fields"] = std::move(fields);
        e["badRequestDetail"] = std::move(bad);
        return json_reply(c, 400, std::move(e), false);
    };
    if (!problems.empty()) {
        return validation_error(problems);
    }

    // The restore point.
    time_point restore_point = c.now;
    std::string snapshot_id;
    if (r.snapshot_id) {
        auto s = std::find_if(snapshots_.begin(), snapshots_.end(), [&](const snapshot_model& s) {
            return s.id == *r.snapshot_id && s.group_id == cl.group_id && s.cluster_name == cl.name;
        });
        if (s == snapshots_.end()) {
            return error_reply(
                c,
                404,
                "RESOURCE_NOT_FOUND",
                "No snapshot with ID " + *r.snapshot_id + " exists for cluster " + cl.name + ".");
        }
        if (!s->complete) {
            return validation_error({{"snapshotId", "the snapshot is not complete yet"}});
        }
        restore_point = s->created;
        snapshot_id = s->id;
    } else if (r.checkpoint_id) {
        if (cl.shards == 0) {
            return validation_error({{"checkpointId", "checkpoints exist only for sharded clusters"}});
        }
        auto k = std::find_if(checkpoints_.begin(), checkpoints_.end(), [&](const checkpoint_model& k) {
            return k.id == *r.checkpoint_id && k.group_id == cl.group_id && k.cluster_name == cl.name;
        });
        if (k == checkpoints_.end()) {
            return error_reply(
                c,
                404,
                "RESOURCE_NOT_FOUND",
                "No checkpoint with ID " + *r.checkpoint_id + " exists for cluster " + cl.name + ".");
        }
        restore_point = k->started + 30s;
    } else if (r.point_in_time_millis) {
        restore_point = time_point(std::chrono::milliseconds(*r.point_in_time_millis));
    }

    // AUTOMATED_RESTORE erases its target: the target must exist and be the caller's to erase.
    if (r.method == "AUTOMATED_RESTORE") {
        auto org = group_org_.find(*r.target_group_id);
        if (org == group_org_.end()) {
            return error_reply(
                c, 404, "RESOURCE_NOT_FOUND", "No group with ID " + *r.target_group_id + " exists.");
        }
        if (who.org != "*" && who.org != org->second) {
            return unauthorized(c,
                                "Current user is not authorized to access group " + *r.target_group_id + ".",
                                std::nullopt);
        }
        bool found = false;
        for (const auto& [key, target] : clusters_) {
            if (target.group_id == *r.target_group_id &&
                ((r.target_cluster_name && target.name == *r.target_cluster_name) ||
                 (!r.target_cluster_name && r.target_cluster_id && target.id == *r.target_cluster_id))) {
                found = true;
            }
        }
        if (!found) {
            return error_reply(c,
                               404,
                               "CLUSTER_NOT_FOUND",
                               "No target cluster " +
                                   r.target_cluster_name.value_or(r.target_cluster_id.value_or("")) +
                                   " exists in group " + *r.target_group_id + ".");
        }
    }

    const std::string batch_id = cl.shards > 0 ? new_object_id(c.now) : std::string();
    std::vector<std::string> created_ids;
    for (std::size_t i = 0; i < cl.parts.size(); ++i) {
        const part_model& part = cl.parts[i];
        job_model j;
        j.seq = ++job_seq_;
        j.id = new_object_id(c.now);
        j.group_id = cl.group_id;
        j.cluster_name = cl.name;
        j.cluster_id = part.cluster_id;
        j.batch_id = batch_id;
        j.snapshot_id = snapshot_id;
        j.requested_method = r.method;
        j.automated = r.method == "AUTOMATED_RESTORE";
        j.target_group_id = r.target_group_id;
        j.target_cluster_name = r.target_cluster_name;
        j.target_cluster_id = r.target_cluster_id;
        j.created = c.now;
        j.finishes = c.now + options_.job_duration;
        j.restore_point = restore_point;
        j.expiration_hours = static_cast<int>(r.expiration_hours.value_or(48));
        j.max_downloads = static_cast<int>(r.max_downloads.value_or(int32_max));
        j.auth_value = new_secret(32);
        if (!j.automated) {
            std::string stem = cl.shards == 0 ? cl.name
                               : part.config  ? "config-" + cl.name + "-config-0"
                                              : cl.name + "-shard-" + std::to_string(i);
            j.file_name = stem + "-" + j.id + ".tar.gz";
            j.content = std::make_shared<archive>(fnv1a(j.id), options_.file_bytes, stem + "/restore.bin");
        }
        if (c.fault && (!c.fault->index || static_cast<std::size_t>(*c.fault->index) == i)) {
            apply_job_fault(*c.fault, j, c.now, false);
        }
        created_ids.push_back(j.id);
        jobs_.emplace(j.id, std::move(j));
    }
    ++counters_.creates;
    counters_.jobs_created += created_ids.size();

    json::array results;
    for (const auto& id : created_ids) {
        results.push_back(render_job(jobs_.at(id), c.now));
    }
    json::object out;
    out["links"] = self_link(options_.base_url + c.req.target);
    out["results"] = std::move(results);
    out["totalCount"] = created_ids.size();
    return json_reply(c, 200, std::move(out), true);
}

http::reply world::list_jobs(call& c, const cluster_model& cl, const page_params& p) {
    std::vector<const job_model*> matching;
    const auto batch = c.query.find("batchId");
    for (const auto& [id, j] : jobs_) {
        if (j.group_id == cl.group_id && j.cluster_name == cl.name &&
            (batch == c.query.end() || j.batch_id == batch->second)) {
            matching.push_back(&j);
        }
    }
    std::sort(
        matching.begin(), matching.end(), [](auto* a, auto* b) { return a->seq > b->seq; });  // newest first
    std::vector<json::value> items;
    for (const auto* j : matching) {
        items.push_back(render_job(*j, c.now));
    }
    return list_reply(c, std::move(items), p);
}

http::reply world::get_job(call& c, const cluster_model& cl, const std::string& job_id) {
    if (!detail::is_hex24(job_id)) {
        return error_reply(c, 400, "INVALID_PARAMETER", "jobId " + job_id + " is not 24 hexadecimal digits.");
    }
    auto it = jobs_.find(job_id);
    if (it == jobs_.end() || it->second.group_id != cl.group_id || it->second.cluster_name != cl.name) {
        return error_reply(c, 404, "RESOURCE_NOT_FOUND", "No restore job with ID " + job_id + " exists.");
    }
    if (c.fault) {
        apply_job_fault(*c.fault, it->second, c.now, true);
    }
    return json_reply(c, 200, render_job(it->second, c.now), false);
}

http::reply world::list_snapshots(call& c, const cluster_model& cl, const page_params& p) {
    const std::string completed = c.query.count("completed") ? c.query["completed"] : "true";
    std::vector<const snapshot_model*> matching;
    for (const auto& s : snapshots_) {
        if (s.group_id == cl.group_id && s.cluster_name == cl.name &&
            (completed == "all" || s.complete == (completed == "true"))) {
            matching.push_back(&s);
        }
    }
    std::sort(matching.begin(), matching.end(), [](auto* a, auto* b) { return a->created > b->created; });
    std::vector<json::value> items;
    for (const auto* s : matching) {
        items.push_back(render_snapshot(*s));
    }
    return list_reply(c, std::move(items), p);
}

http::reply world::get_snapshot(call& c, const cluster_model& cl, const std::string& id) {
    if (!detail::is_hex24(id)) {
        return error_reply(
            c, 400, "INVALID_PARAMETER", "snapshotId " + id + " is not 24 hexadecimal digits.");
    }
    for (const auto& s : snapshots_) {
        if (s.id == id && s.group_id == cl.group_id && s.cluster_name == cl.name) {
            return json_reply(c, 200, render_snapshot(s), false);
        }
    }
    return error_reply(
        c, 404, "RESOURCE_NOT_FOUND", "No snapshot with ID " + id + " exists for cluster " + cl.name + ".");
}

http::reply world::list_checkpoints(call& c, const cluster_model& cl, const page_params& p) {
    std::vector<const checkpoint_model*> matching;
    for (const auto& k : checkpoints_) {
        if (k.group_id == cl.group_id && k.cluster_name == cl.name) {
            matching.push_back(&k);
        }
    }
    std::sort(matching.begin(), matching.end(), [](auto* a, auto* b) { return a->started > b->started; });
    std::vector<json::value> items;
    for (const auto* k : matching) {
        items.push_back(render_checkpoint(*k));
    }
    return list_reply(c, std::move(items), p);
}

http::reply world::get_checkpoint(call& c, const cluster_model& cl, const std::string& id) {
    if (!detail::is_hex24(id)) {
        return error_reply(
            c, 400, "INVALID_PARAMETER", "checkpointId " + id + " is not 24 hexadecimal digits.");
    }
    for (const auto& k : checkpoints_) {
        if (k.id == id && k.group_id == cl.group_id && k.cluster_name == cl.name) {
            return json_reply(c, 200, render_checkpoint(k), false);
        }
    }
    return error_reply(
        c, 404, "RESOURCE_NOT_FOUND", "No checkpoint with ID " + id + " exists for cluster " + cl.name + ".");
}

}  // namespace atlas_restored::fake_atlas
