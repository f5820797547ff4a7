#include "runs/policy_codec.hpp"

#include <boost/json.hpp>

#include <array>
#include <utility>

namespace atlas_restored::runs {
namespace {

namespace json = boost::json;

constexpr int format_version = 1;

constexpr std::array<std::pair<config::restore_point_kind, const char*>, 5> point_kinds{{
    {config::restore_point_kind::latest_snapshot, "latest_snapshot"},
    {config::restore_point_kind::snapshot_id, "snapshot_id"},
    {config::restore_point_kind::point_in_time, "point_in_time"},
    {config::restore_point_kind::oplog, "oplog"},
    {config::restore_point_kind::checkpoint_id, "checkpoint_id"},
}};

template <class T>
void put_optional(json::object& o, const char* key, const std::optional<T>& v) {
    if (v) {
        o[key] = *v;
    }
}

// Reads fields of one object, remembering the first problem.
class reader {
  public:
    reader(const json::object& o, std::string path, std::string& problem)
        : o_(o), path_(std::move(path)), problem_(problem) {}

    const json::value* find(const char* key) const { return o_.if_contains(key); }

    std::string text(const char* key) {
        if (auto s = optional_text(key)) {
            return *s;
        }
        fail(key, "is missing");
        return {};
    }
    std::optional<std::string> optional_text(const char* key) {
        const auto* v = find(key);
        if (v == nullptr || v->is_null()) {
            return std::nullopt;
        }
        if (!v->is_string()) {
            fail(key, "is not a string");
            return std::nullopt;
        }
        return std::string(v->get_string());
    }
    std::int64_t integer(const char* key, std::int64_t fallback) {
        const auto* v = find(key);
        if (v == nullptr) {
            return fallback;
        }
        if (auto n = v->if_int64()) {
            return *n;
        }
        if (auto n = v->if_uint64()) {
            return static_cast<std::int64_t>(*n);
        }
        fail(key, "is not an integer");
        return fallback;
    }
    std::optional<std::int32_t> optional_int32(const char* key) {
        if (find(key) == nullptr || find(key)->is_null()) {
            return std::nullopt;
        }
        return static_cast<std::int32_t>(integer(key, 0));
    }
    bool boolean(const char* key, bool fallback) {
        const auto* v = find(key);
        if (v == nullptr) {
            return fallback;
        }
        if (!v->is_bool()) {
            fail(key, "is not a boolean");
            return fallback;
        }
        return v->get_bool();
    }
    const json::object* object(const char* key) {
        const auto* v = find(key);
        if (v == nullptr || v->is_null()) {
            return nullptr;
        }
        if (!v->is_object()) {
            fail(key, "is not an object");
            return nullptr;
        }
        return &v->get_object();
    }
    void fail(const char* key, const char* what) {
        if (problem_.empty()) {
            problem_ = path_ + key + " " + what;
        }
    }

  private:
    const json::object& o_;
    std::string path_;
    std::string& problem_;
};

}  // namespace

std::string policy_to_json(const config::policy& p) {
    json::object o;
    o["format"] = format_version;
    o["name"] = p.name;
    o["group_id"] = p.group_id;
    o["cluster"] = p.cluster;
    put_optional(o, "profile", p.profile);
    put_optional(o, "trigger", p.trigger);

    json::object point;
    for (const auto& [kind, name] : point_kinds) {
        if (kind == p.point.kind) {
            point["kind"] = name;
        }
    }
    switch (p.point.kind) {
        case config::restore_point_kind::latest_snapshot:
            break;
        case config::restore_point_kind::snapshot_id:
            point["snapshot_id"] = p.point.snapshot_id;
            break;
        case config::restore_point_kind::point_in_time:
            point["point_in_time_utc_millis"] = p.point.point_in_time_utc_millis;
            break;
        case config::restore_point_kind::oplog:
            point["oplog_ts"] = p.point.oplog_ts;
            point["oplog_inc"] = p.point.oplog_inc;
            break;
        case config::restore_point_kind::checkpoint_id:
            point["checkpoint_id"] = p.point.checkpoint_id;
            break;
    }
    o["restore_point"] = std::move(point);

    json::object d;
    d["method"] = p.delivery.method;
    put_optional(d, "expiration_hours", p.delivery.expiration_hours);
    put_optional(d, "max_downloads", p.delivery.max_downloads);
    put_optional(d, "target_group_id", p.delivery.target_group_id);
    put_optional(d, "target_cluster_name", p.delivery.target_cluster_name);
    put_optional(d, "target_cluster_id", p.delivery.target_cluster_id);
    put_optional(d, "confirm_overwrite", p.delivery.confirm_overwrite);
    o["delivery"] = std::move(d);

    json::object dl;
    dl["verify"] = p.download.verify;
    dl["keep_last"] = p.download.keep_last;
    dl["max_file_bytes"] = p.download.max_file_bytes;
    dl["on_mismatch"] = config::to_string(p.download.on_mismatch);
    o["download"] = std::move(dl);

    if (p.after_download) {
        json::object a;
        json::array command;
        for (const auto& arg : p.after_download->command) {
            command.emplace_back(arg);
        }
        a["command"] = std::move(command);
        a["timeout_ms"] = p.after_download->timeout.count();
        o["after_download"] = std::move(a);
    }
    o["resubmit_on_expiry"] = p.resubmit_on_expiry;
    o["poll_interval_ms"] = p.poll_interval.count();
    o["deadline_ms"] = p.deadline.count();
    return json::serialize(o);
}

result<config::policy> policy_from_json(std::string_view text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) {
        return make_error(errc::invalid_input, "a run's stored policy is not a JSON object");
    }
    std::string problem;
    reader r(v.get_object(), "", problem);
    if (r.integer("format", 0) != format_version) {
        return make_error(errc::invalid_input, "a run's stored policy has an unknown format");
    }
    config::policy p;
    p.name = r.text("name");
    p.group_id = r.text("group_id");
    p.cluster = r.text("cluster");
    p.profile = r.optional_text("profile");
    p.trigger = r.optional_text("trigger");

    if (const auto* point = r.object("restore_point")) {
        reader rp(*point, "restore_point.", problem);
        const auto kind = rp.text("kind");
        bool known = false;
        for (const auto& [k, name] : point_kinds) {
            if (kind == name) {
                p.point.kind = k;
                known = true;
            }
        }
        if (!known) {
            rp.fail("kind", "is not a known restore point");
        }
        switch (p.point.kind) {
            case config::restore_point_kind::latest_snapshot:
                break;
            case config::restore_point_kind::snapshot_id:
                p.point.snapshot_id = rp.text("snapshot_id");
                break;
            case config::restore_point_kind::point_in_time:
                p.point.point_in_time_utc_millis = rp.integer("point_in_time_utc_millis", 0);
                break;
            case config::restore_point_kind::oplog:
                p.point.oplog_ts = rp.text("oplog_ts");
                p.point.oplog_inc = rp.integer("oplog_inc", 0);
                break;
            case config::restore_point_kind::checkpoint_id:
                p.point.checkpoint_id = rp.text("checkpoint_id");
                break;
        }
    } else {
        r.fail("restore_point", "is missing");
    }

    if (const auto* d = r.object("delivery")) {
        reader rd(*d, "delivery.", problem);
        p.delivery.method = rd.text("method");
        p.delivery.expiration_hours = rd.optional_int32("expiration_hours");
        p.delivery.max_downloads = rd.optional_int32("max_downloads");
        p.delivery.target_group_id = rd.optional_text("target_group_id");
        p.delivery.target_cluster_name = rd.optional_text("target_cluster_name");
        p.delivery.target_cluster_id = rd.optional_text("target_cluster_id");
        p.delivery.confirm_overwrite = rd.optional_text("confirm_overwrite");
    } else {
        r.fail("delivery", "is missing");
    }

    if (const auto* dl = r.object("download")) {
        reader rd(*dl, "download.", problem);
        p.download.verify = rd.optional_text("verify").value_or(p.download.verify);
        p.download.keep_last = static_cast<int>(rd.integer("keep_last", p.download.keep_last));
        p.download.max_file_bytes = static_cast<std::uint64_t>(
            rd.integer("max_file_bytes", static_cast<std::int64_t>(p.download.max_file_bytes)));
        const auto mismatch = rd.optional_text("on_mismatch").value_or("keep");
        p.download.on_mismatch = mismatch == config::to_string(config::mismatch_action::delete_file)
                                     ? config::mismatch_action::delete_file
                                     : config::mismatch_action::keep;
    }

    if (const auto* a = r.object("after_download")) {
        reader ra(*a, "after_download.", problem);
        config::after_download_settings after;
        if (const auto* command = ra.find("command"); command != nullptr && command->is_array()) {
            for (const auto& arg : command->get_array()) {
                if (!arg.is_string()) {
                    ra.fail("command", "holds a non-string");
                    break;
                }
                after.command.emplace_back(arg.get_string());
            }
        } else {
            ra.fail("command", "is not an array");
        }
        after.timeout = config::duration{ra.integer("timeout_ms", after.timeout.count())};
        p.after_download = std::move(after);
    }
    p.resubmit_on_expiry = r.boolean("resubmit_on_expiry", false);
    p.poll_interval = config::duration{r.integer("poll_interval_ms", p.poll_interval.count())};
    p.deadline = config::duration{r.integer("deadline_ms", p.deadline.count())};

    if (!problem.empty()) {
        return make_error(errc::invalid_input, "a run's stored policy: " + problem);
    }
    return p;
}

}  // namespace atlas_restored::runs
