#include "atlas/json.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace atlas_restored::atlas {
namespace json = boost::json;

namespace {

// Where a value sits: the resource named in messages and the API path of its parent ("" at the
// top, "delivery." or "results[2].delivery." below it).
struct where {
    std::string_view what;
    std::string path;
};

error bad(std::string message) {
    return make_error(errc::bad_response, std::move(message));
}

error field_problem(const where& w, std::string_view name, std::string_view problem) {
    std::string m(w.what);
    m += ": field '";
    m += w.path;
    m += name;
    m += "' ";
    m += problem;
    return bad(std::move(m));
}

error not_an_object(const where& w) {
    if (w.path.empty()) {
        return bad(std::string(w.what) + ": expected a JSON object");
    }
    // The path of a nested value ends with the '.' that would lead to its members.
    return bad(std::string(w.what) + ": field '" + w.path.substr(0, w.path.size() - 1) +
               "' is not an object");
}

// Boost.JSON keeps integers as int64 or uint64 and everything else (fractions, exponents, integers
// beyond 64 bits) as double. A double is refused even when it is integral: the API sends integers.
template <class Int>
std::optional<Int> to_int(const json::value& v, std::string_view& problem) {
    static_assert(std::numeric_limits<Int>::is_signed);
    if (v.is_int64()) {
        const std::int64_t n = v.get_int64();
        if (n < static_cast<std::int64_t>(std::numeric_limits<Int>::min()) ||
            n > static_cast<std::int64_t>(std::numeric_limits<Int>::max())) {
            problem = "is out of range";
            return std::nullopt;
        }
        return static_cast<Int>(n);
    }
    if (v.is_uint64()) {
        if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<Int>::max())) {
            problem = "is out of range";
            return std::nullopt;
        }
        return static_cast<Int>(v.get_uint64());
    }
    problem = "is not an integer";
    return std::nullopt;
}

// Reads the members of one JSON object; the first problem is kept and later reads do nothing.
class reader {
  public:
    reader(const json::value& v, where w) : obj_(v.if_object()), w_(std::move(w)) {
        if (obj_ == nullptr) {
            err_ = not_an_object(w_);
        }
    }

    std::optional<error> take() { return std::move(err_); }

    void str(std::string_view name, std::optional<std::string>& out) {
        if (const json::value* v = get(name)) {
            if (const json::string* s = v->if_string()) {
                out.emplace(s->data(), s->size());
            } else {
                fail(name, "is not a string");
            }
        }
    }

    // A string the server may omit; absent and null leave `out` empty.
    void str(std::string_view name, std::string& out) {
        std::optional<std::string> s;
        str(name, s);
        if (s) {
            out = std::move(*s);
        }
    }

    void required_str(std::string_view name, std::string& out) {
        if (!err_ && get(name) == nullptr) {
            fail(name, "is missing");
            return;
        }
        str(name, out);
        if (!err_ && out.empty()) {
            fail(name, "is empty");
        }
    }

    template <class Int>
    void integer(std::string_view name, std::optional<Int>& out) {
        if (const json::value* v = get(name)) {
            std::string_view problem;
            if (auto n = to_int<Int>(*v, problem)) {
                out = *n;
            } else {
                fail(name, problem);
            }
        }
    }

    template <class Int>
    void integer(std::string_view name, Int& out) {
        std::optional<Int> n;
        integer(name, n);
        if (n) {
            out = *n;
        }
    }

    template <class Int>
    void required_integer(std::string_view name, Int& out) {
        if (!err_ && get(name) == nullptr) {
            fail(name, "is missing");
            return;
        }
        integer(name, out);
    }

    void boolean(std::string_view name, std::optional<bool>& out) {
        if (const json::value* v = get(name)) {
            if (v->is_bool()) {
                out = v->get_bool();
            } else {
                fail(name, "is not a boolean");
            }
        }
    }

    void boolean(std::string_view name, bool& out) {
        std::optional<bool> b;
        boolean(name, b);
        if (b) {
            out = *b;
        }
    }

    template <class T, class Read>
    void nested(std::string_view name, std::optional<T>& out, Read read) {
        if (const json::value* v = get(name)) {
            T value{};
            if (auto e = read(*v, where{w_.what, w_.path + std::string(name) + "."}, value)) {
                err_ = std::move(e);
            } else {
                out = std::move(value);
            }
        }
    }

    template <class T, class Read>
    void required_nested(std::string_view name, T& out, Read read) {
        if (!err_ && get(name) == nullptr) {
            fail(name, "is missing");
            return;
        }
        std::optional<T> value;
        nested(name, value, read);
        if (value) {
            out = std::move(*value);
        }
    }

    template <class T, class Read>
    void list(std::string_view name, std::vector<T>& out, Read read) {
        const json::value* v = get(name);
        if (v == nullptr) {
            return;
        }
        const json::array* a = v->if_array();
        if (a == nullptr) {
            fail(name, "is not an array");
            return;
        }
        out.clear();
        out.reserve(a->size());
        for (std::size_t i = 0; i < a->size(); ++i) {
            T value{};
            where w{w_.what, w_.path + std::string(name) + "[" + std::to_string(i) + "]."};
            if (auto e = read((*a)[i], w, value)) {
                err_ = std::move(e);
                return;
            }
            out.push_back(std::move(value));
        }
    }

    template <class T, class Read>
    void required_list(std::string_view name, std::vector<T>& out, Read read) {
        if (!err_ && get(name) == nullptr) {
            fail(name, "is missing");
            return;
        }
        list(name, out, read);
    }

    void fail(std::string_view name, std::string_view problem) {
        if (!err_) {
            err_ = field_problem(w_, name, problem);
        }
    }

  private:
    // Absent and null are the same thing to us: "not set".
    const json::value* get(std::string_view name) const {
        if (err_) {
            return nullptr;
        }
        auto it = obj_->find(name);
        if (it == obj_->end() || it->value().is_null()) {
            return nullptr;
        }
        return &it->value();
    }

    const json::object* obj_;
    where w_;
    std::optional<error> err_;
};

std::optional<error> read_link(const json::value& v, const where& w, link& out) {
    reader r(v, w);
    r.str("href", out.href);
    r.str("rel", out.rel);
    return r.take();
}

std::optional<error> read_bson_timestamp(const json::value& v, const where& w, bson_timestamp& out) {
    reader r(v, w);
    r.str("date", out.date);
    // The spec's minimum for increment (1199145600) is a copy-paste bug; any int32 is accepted.
    r.integer("increment", out.increment);
    return r.take();
}

std::optional<error> read_file_hash(const json::value& v, const where& w, file_hash& out) {
    reader r(v, w);
    r.str("fileName", out.file_name);
    r.str("hash", out.hash);
    r.str("typeName", out.type_name);
    return r.take();
}

std::optional<error> read_delivery(const json::value& v, const where& w, delivery& out) {
    reader r(v, w);
    r.required_str("methodName", out.method_name);
    r.str("statusName", out.status_name);
    r.str("authHeader", out.auth_header);
    r.str("authValue", out.auth_value);
    r.integer("expirationHours", out.expiration_hours);
    r.str("expires", out.expires);
    r.integer("maxDownloads", out.max_downloads);
    r.str("targetClusterId", out.target_cluster_id);
    r.str("targetClusterName", out.target_cluster_name);
    r.str("targetGroupId", out.target_group_id);
    r.str("url", out.url);
    r.str("urlV2", out.url_v2);
    return r.take();
}

std::optional<error> read_restore_job(const json::value& v, const where& w, restore_job& out) {
    reader r(v, w);
    r.required_str("id", out.id);
    r.str("batchId", out.batch_id);
    r.str("clusterId", out.cluster_id);
    r.str("clusterName", out.cluster_name);
    r.str("created", out.created);
    r.required_nested("delivery", out.delivery_info, read_delivery);
    r.boolean("encryptionEnabled", out.encryption_enabled);
    r.str("groupId", out.group_id);
    r.list("hashes", out.hashes, read_file_hash);
    r.list("links", out.links, read_link);
    r.str("masterKeyUUID", out.master_key_uuid);
    r.str("snapshotId", out.snapshot_id);
    r.str("statusName", out.status_name);
    r.nested("timestamp", out.timestamp, read_bson_timestamp);
    r.str("deploymentJobId", out.deployment_job_id);
    return r.take();
}

std::optional<error> read_delivery_request(const json::value& v, const where& w, delivery_request& out) {
    reader r(v, w);
    r.required_str("methodName", out.method_name);
    r.integer("expirationHours", out.expiration_hours);
    r.integer("maxDownloads", out.max_downloads);
    r.str("targetClusterId", out.target_cluster_id);
    r.str("targetClusterName", out.target_cluster_name);
    r.str("targetGroupId", out.target_group_id);
    return r.take();
}

std::optional<error> read_create_request(const json::value& v,
                                         const where& w,
                                         create_restore_job_request& out) {
    reader r(v, w);
    r.str("checkpointId", out.checkpoint_id);
    r.integer("oplogInc", out.oplog_inc);
    r.str("oplogTs", out.oplog_ts);
    r.integer("pointInTimeUTCMillis", out.point_in_time_utc_millis);
    r.str("snapshotId", out.snapshot_id);
    r.required_nested("delivery", out.delivery, read_delivery_request);
    return r.take();
}

std::optional<error> read_snapshot_part(const json::value& v, const where& w, snapshot_part& out) {
    reader r(v, w);
    r.str("clusterId", out.cluster_id);
    r.str("completedTime", out.completed_time);
    r.str("compressionSetting", out.compression_setting);
    r.integer("dataSizeBytes", out.data_size_bytes);
    r.boolean("encryptionEnabled", out.encryption_enabled);
    r.str("fcv", out.fcv);
    r.integer("fileSizeBytes", out.file_size_bytes);
    r.str("machineId", out.machine_id);
    r.str("masterKeyUUID", out.master_key_uuid);
    r.str("mongodVersion", out.mongod_version);
    r.str("replicaSetName", out.replica_set_name);
    r.str("replicaState", out.replica_state);
    r.integer("storageSizeBytes", out.storage_size_bytes);
    r.str("typeName", out.type_name);
    return r.take();
}

std::optional<error> read_snapshot(const json::value& v, const where& w, snapshot& out) {
    reader r(v, w);
    r.required_str("id", out.id);
    r.str("clusterId", out.cluster_id);
    r.str("clusterName", out.cluster_name);
    r.boolean("complete", out.complete);
    r.nested("created", out.created, read_bson_timestamp);
    r.boolean("doNotDelete", out.do_not_delete);
    r.str("expires", out.expires);
    r.str("groupId", out.group_id);
    r.boolean("incremental", out.incremental);
    r.nested("lastOplogAppliedTimestamp", out.last_oplog_applied_timestamp, read_bson_timestamp);
    r.list("links", out.links, read_link);
    r.list("parts", out.parts, read_snapshot_part);
    return r.take();
}

std::optional<error> read_checkpoint_part(const json::value& v, const where& w, checkpoint_part& out) {
    reader r(v, w);
    r.str("replicaSetName", out.replica_set_name);
    r.str("shardName", out.shard_name);
    r.boolean("tokenDiscovered", out.token_discovered);
    r.nested("tokenTimestamp", out.token_timestamp, read_bson_timestamp);
    r.str("typeName", out.type_name);
    return r.take();
}

std::optional<error> read_checkpoint(const json::value& v, const where& w, checkpoint& out) {
    reader r(v, w);
    r.required_str("id", out.id);
    r.str("clusterId", out.cluster_id);
    r.str("completed", out.completed);
    r.str("groupId", out.group_id);
    r.list("links", out.links, read_link);
    r.list("parts", out.parts, read_checkpoint_part);
    r.boolean("restorable", out.restorable);
    r.str("started", out.started);
    r.str("timestamp", out.timestamp);
    return r.take();
}

std::optional<error> read_api_error(const json::value& v, const where& w, api_error& out) {
    reader r(v, w);
    r.required_integer("error", out.error);
    r.required_str("errorCode", out.error_code);
    r.str("detail", out.detail);
    r.str("reason", out.reason);
    return r.take();
}

template <class T, class Read>
std::optional<error> read_page(const json::value& v, const where& w, page<T>& out, Read read) {
    reader r(v, w);
    r.required_list("results", out.results, read);
    r.integer("totalCount", out.total_count);
    if (out.total_count && *out.total_count < 0) {
        r.fail("totalCount", "is negative");
    }
    r.list("links", out.links, read_link);
    r.integer("status", out.envelope_status);
    return r.take();
}

template <class T, class Read>
result<T> run(const json::value& v, std::string_view what, Read read) {
    T out{};
    if (auto e = read(v, where{what, ""}, out)) {
        return *e;
    }
    return out;
}

template <class T, class Read>
result<page<T>> run_page(const json::value& v, std::string_view what, Read read) {
    page<T> out;
    if (auto e = read_page(v, where{what, ""}, out, read)) {
        return *e;
    }
    return out;
}

// Writers: unset optionals are left out rather than written as null.
void put(json::object& o, std::string_view key, const std::optional<std::string>& v) {
    if (v) {
        o[key] = *v;
    }
}
template <class Int>
void put(json::object& o, std::string_view key, const std::optional<Int>& v) {
    if (v) {
        o[key] = *v;
    }
}
void put_nonempty(json::object& o, std::string_view key, const std::string& v) {
    if (!v.empty()) {
        o[key] = v;
    }
}
template <class T>
void put_list(json::object& o, std::string_view key, const std::vector<T>& items) {
    if (items.empty()) {
        return;
    }
    json::array a;
    a.reserve(items.size());
    for (const auto& item : items) {
        a.emplace_back(to_json(item));
    }
    o[key] = std::move(a);
}

}  // namespace

result<link> parse_link(const json::value& v) {
    return run<link>(v, "link", read_link);
}
result<bson_timestamp> parse_bson_timestamp(const json::value& v) {
    return run<bson_timestamp>(v, "BSON timestamp", read_bson_timestamp);
}
result<file_hash> parse_file_hash(const json::value& v) {
    return run<file_hash>(v, "file hash", read_file_hash);
}
result<delivery> parse_delivery(const json::value& v) {
    return run<delivery>(v, "delivery", read_delivery);
}
result<restore_job> parse_restore_job(const json::value& v) {
    return run<restore_job>(v, "restore job", read_restore_job);
}
result<delivery_request> parse_delivery_request(const json::value& v) {
    return run<delivery_request>(v, "delivery", read_delivery_request);
}
result<create_restore_job_request> parse_create_restore_job_request(const json::value& v) {
    return run<create_restore_job_request>(v, "restore job request", read_create_request);
}
result<snapshot_part> parse_snapshot_part(const json::value& v) {
    return run<snapshot_part>(v, "snapshot part", read_snapshot_part);
}
result<snapshot> parse_snapshot(const json::value& v) {
    return run<snapshot>(v, "snapshot", read_snapshot);
}
result<checkpoint_part> parse_checkpoint_part(const json::value& v) {
    return run<checkpoint_part>(v, "checkpoint part", read_checkpoint_part);
}
result<checkpoint> parse_checkpoint(const json::value& v) {
    return run<checkpoint>(v, "checkpoint", read_checkpoint);
}
result<api_error> parse_api_error(const json::value& v) {
    return run<api_error>(v, "error body", read_api_error);
}

result<page<restore_job>> parse_restore_job_page(const json::value& v) {
    return run_page<restore_job>(v, "restore job list", read_restore_job);
}
result<page<snapshot>> parse_snapshot_page(const json::value& v) {
    return run_page<snapshot>(v, "snapshot list", read_snapshot);
}
result<page<checkpoint>> parse_checkpoint_page(const json::value& v) {
    return run_page<checkpoint>(v, "checkpoint list", read_checkpoint);
}

json::object to_json(const link& l) {
    json::object o;
    o["href"] = l.href;
    o["rel"] = l.rel;
    return o;
}

json::object to_json(const bson_timestamp& t) {
    json::object o;
    o["date"] = t.date;
    o["increment"] = t.increment;
    return o;
}

json::object to_json(const file_hash& h) {
    json::object o;
    o["fileName"] = h.file_name;
    o["hash"] = h.hash;
    o["typeName"] = h.type_name;
    return o;
}

json::object to_json(const delivery& d) {
    json::object o;
    put(o, "authHeader", d.auth_header);
    put(o, "authValue", d.auth_value);
    put(o, "expirationHours", d.expiration_hours);
    put(o, "expires", d.expires);
    put(o, "maxDownloads", d.max_downloads);
    o["methodName"] = d.method_name;
    put_nonempty(o, "statusName", d.status_name);
    put(o, "targetClusterId", d.target_cluster_id);
    put(o, "targetClusterName", d.target_cluster_name);
    put(o, "targetGroupId", d.target_group_id);
    put(o, "url", d.url);
    put(o, "urlV2", d.url_v2);
    return o;
}

json::object to_json(const restore_job& j) {
    json::object o;
    put(o, "batchId", j.batch_id);
    put(o, "clusterId", j.cluster_id);
    put(o, "clusterName", j.cluster_name);
    put(o, "created", j.created);
    o["delivery"] = to_json(j.delivery_info);
    put(o, "deploymentJobId", j.deployment_job_id);
    put(o, "encryptionEnabled", j.encryption_enabled);
    put(o, "groupId", j.group_id);
    put_list(o, "hashes", j.hashes);
    o["id"] = j.id;
    put_list(o, "links", j.links);
    put(o, "masterKeyUUID", j.master_key_uuid);
    put(o, "snapshotId", j.snapshot_id);
    put_nonempty(o, "statusName", j.status_name);
    if (j.timestamp) {
        o["timestamp"] = to_json(*j.timestamp);
    }
    return o;
}

json::object to_json(const delivery_request& d) {
    json::object o;
    put(o, "expirationHours", d.expiration_hours);
    put(o, "maxDownloads", d.max_downloads);
    o["methodName"] = d.method_name;
    put(o, "targetClusterId", d.target_cluster_id);
    put(o, "targetClusterName", d.target_cluster_name);
    put(o, "targetGroupId", d.target_group_id);
    return o;
}

json::object to_json(const create_restore_job_request& r) {
    json::object o;
    put(o, "checkpointId", r.checkpoint_id);
    o["delivery"] = to_json(r.delivery);
    put(o, "oplogInc", r.oplog_inc);
    put(o, "oplogTs", r.oplog_ts);
    put(o, "pointInTimeUTCMillis", r.point_in_time_utc_millis);
    put(o, "snapshotId", r.snapshot_id);
    return o;
}

json::object to_json(const snapshot_part& p) {
    json::object o;
    put(o, "clusterId", p.cluster_id);
    put(o, "completedTime", p.completed_time);
    put(o, "compressionSetting", p.compression_setting);
    put(o, "dataSizeBytes", p.data_size_bytes);
    put(o, "encryptionEnabled", p.encryption_enabled);
    put(o, "fcv", p.fcv);
    put(o, "fileSizeBytes", p.file_size_bytes);
    put(o, "machineId", p.machine_id);
    put(o, "masterKeyUUID", p.master_key_uuid);
    put(o, "mongodVersion", p.mongod_version);
    put(o, "replicaSetName", p.replica_set_name);
    put(o, "replicaState", p.replica_state);
    put(o, "storageSizeBytes", p.storage_size_bytes);
    put(o, "typeName", p.type_name);
    return o;
}

json::object to_json(const snapshot& s) {
    json::object o;
    put(o, "clusterId", s.cluster_id);
    put(o, "clusterName", s.cluster_name);
    o["complete"] = s.complete;
    if (s.created) {
        o["created"] = to_json(*s.created);
    }
    put(o, "doNotDelete", s.do_not_delete);
    put(o, "expires", s.expires);
    put(o, "groupId", s.group_id);
    o["id"] = s.id;
    put(o, "incremental", s.incremental);
    if (s.last_oplog_applied_timestamp) {
        o["lastOplogAppliedTimestamp"] = to_json(*s.last_oplog_applied_timestamp);
    }
    put_list(o, "links", s.links);
    put_list(o, "parts", s.parts);
    return o;
}

json::object to_json(const checkpoint_part& p) {
    json::object o;
    put(o, "replicaSetName", p.replica_set_name);
    put(o, "shardName", p.shard_name);
    put(o, "tokenDiscovered", p.token_discovered);
    if (p.token_timestamp) {
        o["tokenTimestamp"] = to_json(*p.token_timestamp);
    }
    put(o, "typeName", p.type_name);
    return o;
}

json::object to_json(const checkpoint& c) {
    json::object o;
    put(o, "clusterId", c.cluster_id);
    put(o, "completed", c.completed);
    put(o, "groupId", c.group_id);
    o["id"] = c.id;
    put_list(o, "links", c.links);
    put_list(o, "parts", c.parts);
    put(o, "restorable", c.restorable);
    put(o, "started", c.started);
    put(o, "timestamp", c.timestamp);
    return o;
}

json::object to_json(const api_error& e) {
    json::object o;
    o["detail"] = e.detail;
    o["error"] = e.error;
    o["errorCode"] = e.error_code;
    o["reason"] = e.reason;
    return o;
}

}  // namespace atlas_restored::atlas
