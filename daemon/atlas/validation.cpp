#include "atlas/validation.hpp"

#include <array>
#include <cstdint>
#include <optional>

namespace atlas_restored::atlas {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view hex24_rule = "must be 24 lower-case hexadecimal digits (^([a-f0-9]{24})$)";
constexpr std::string_view cluster_name_rule =
    "must start with a letter or digit followed by letters, digits or hyphens (^[a-zA-Z0-9][a-zA-Z0-9-]*$)";
constexpr std::string_view accepted_methods = "HTTP, AUTOMATED_RESTORE or CLIENT_PIT_HTTP";
// pointInTimeUTCMillis must lie within the last 24 hours; allow our clock to trail Atlas's a bit.
constexpr auto clock_skew_allowance = 5min;
constexpr auto point_in_time_window = 24h;

// The value as quoted in a message: short, so a hostile value cannot flood a log line.
std::string quoted(std::string_view value) {
    constexpr std::size_t max_shown = 40;
    std::string out = "\"";
    out += value.substr(0, max_shown);
    if (value.size() > max_shown) {
        out += "...";
    }
    out += "\"";
    return out;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Reads exactly n digits at pos into out.
bool read_digits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
    if (pos + n > s.size()) {
        return false;
    }
    out = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (!is_digit(s[pos + i])) {
            return false;
        }
        out = out * 10 + (s[pos + i] - '0');
    }
    pos += n;
    return true;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
    if (pos < s.size() && s[pos] == c) {
        ++pos;
        return true;
    }
    return false;
}

bool is_leap_year(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) {
    static constexpr std::array<int, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap_year(y) ? 29 : days[static_cast<std::size_t>(m - 1)];
}

bool set(const std::optional<std::string>& v) {
    return v.has_value();
}
template <class T>
bool set(const std::optional<T>& v) {
    return v.has_value();
}

// The restore-point fields, as the seed names them.
struct restore_point_fields {
    bool snapshot_id, checkpoint_id, oplog_inc, oplog_ts, point_in_time;
};

// "oplogInc and snapshotId" from the fields of `excluded` that are set.
std::string names_of_set(
    const restore_point_fields& f,
    std::initializer_list<std::pair<bool restore_point_fields::*, std::string_view>> excluded) {
    std::string out;
    for (const auto& [member, name] : excluded) {
        if (f.*member) {
            if (!out.empty()) {
                out += " and ";
            }
            out += name;
        }
    }
    return out;
}

void check_exclusions(
    std::vector<field_error>& errors,
    const restore_point_fields& f,
    bool is_set,
    std::string_view field,
    std::initializer_list<std::pair<bool restore_point_fields::*, std::string_view>> excluded,
    std::string_view seed_rule) {
    if (!is_set) {
        return;
    }
    const std::string conflicting = names_of_set(f, excluded);
    if (!conflicting.empty()) {
        errors.push_back({std::string(field),
                          "can't be set together with " + conflicting + ": " + std::string(seed_rule)});
    }
}

}  // namespace

bool is_hex24(std::string_view value) {
    if (value.size() != 24) {
        return false;
    }
    for (const char c : value) {
        if (!is_digit(c) && !(c >= 'a' && c <= 'f')) {
            return false;
        }
    }
    return true;
}

bool is_cluster_name(std::string_view value) {
    auto alnum = [](char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    if (value.empty() || !alnum(value.front())) {
        return false;
    }
    for (const char c : value) {
        if (!alnum(c) && c != '-') {
            return false;
        }
    }
    return true;
}

bool is_iso8601_date_time(std::string_view s) {
    std::size_t pos = 0;
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (s.empty() || s[0] == '0') {  // the year is 1000-9999
        return false;
    }
    if (!read_digits(s, pos, 4, year) || !expect(s, pos, '-') || !read_digits(s, pos, 2, month) ||
        !expect(s, pos, '-') || !read_digits(s, pos, 2, day) || !expect(s, pos, 'T') ||
        !read_digits(s, pos, 2, hour) || !expect(s, pos, ':') || !read_digits(s, pos, 2, minute) ||
        !expect(s, pos, ':') || !read_digits(s, pos, 2, second)) {
        return false;
    }
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 ||
        second > 59) {
        return false;
    }
    if (expect(s, pos, '.')) {
        std::size_t digits = 0;
        while (pos < s.size() && is_digit(s[pos])) {
            ++pos;
            ++digits;
        }
        if (digits < 1 || digits > 9) {
            return false;
        }
    }
    if (expect(s, pos, 'Z')) {
        return pos == s.size();
    }
    if (!expect(s, pos, '+') && !expect(s, pos, '-')) {
        return false;
    }
    int offset_hours = 0, offset_minutes = 0;
    if (!read_digits(s, pos, 2, offset_hours) || !expect(s, pos, ':') ||
        !read_digits(s, pos, 2, offset_minutes)) {
        return false;
    }
    return offset_hours <= 19 && offset_minutes <= 59 && pos == s.size();
}

std::vector<field_error> validate_target(std::string_view group_id, std::string_view cluster_name) {
    std::vector<field_error> errors;
    if (!is_hex24(group_id)) {
        errors.push_back({"groupId", quoted(group_id) + " " + std::string(hex24_rule)});
    }
    if (!is_cluster_name(cluster_name)) {
        errors.push_back({"clusterName", quoted(cluster_name) + " " + std::string(cluster_name_rule)});
    }
    return errors;
}

std::vector<field_error> validate_create_request(const create_restore_job_request& request,
                                                 std::chrono::system_clock::time_point now) {
    std::vector<field_error> errors;
    const delivery_request& d = request.delivery;

    auto check_hex24 = [&](std::string_view field, const std::optional<std::string>& value) {
        if (value && !is_hex24(*value)) {
            errors.push_back({std::string(field), quoted(*value) + " " + std::string(hex24_rule)});
        }
    };
    check_hex24("snapshotId", request.snapshot_id);
    check_hex24("checkpointId", request.checkpoint_id);
    check_hex24("delivery.targetGroupId", d.target_group_id);
    check_hex24("delivery.targetClusterId", d.target_cluster_id);
    if (d.target_cluster_name && !is_cluster_name(*d.target_cluster_name)) {
        errors.push_back({"delivery.targetClusterName",
                          quoted(*d.target_cluster_name) + " " + std::string(cluster_name_rule)});
    }

    // Exactly one restore point, with the exclusions worded as the seed words them.
    const restore_point_fields f{set(request.snapshot_id),
                                 set(request.checkpoint_id),
                                 set(request.oplog_inc),
                                 set(request.oplog_ts),
                                 set(request.point_in_time_utc_millis)};
    using rp = restore_point_fields;
    if (!f.snapshot_id && !f.checkpoint_id && !f.oplog_inc && !f.oplog_ts && !f.point_in_time) {
        // No single field is at fault: the empty path means the body as a whole.
        errors.push_back({"",
                          "a restore point is required: set exactly one of snapshotId, checkpointId, "
                          "oplogTs with oplogInc, or pointInTimeUTCMillis"});
    }
    check_exclusions(
        errors,
        f,
        f.checkpoint_id,
        "checkpointId",
        {{&rp::oplog_inc, "oplogInc"},
         {&rp::oplog_ts, "oplogTs"},
         {&rp::snapshot_id, "snapshotId"},
         {&rp::point_in_time, "pointInTimeUTCMillis"}},
        "if you set checkpointId, you can't set oplogInc, oplogTs, snapshotId, or pointInTimeUTCMillis");
    check_exclusions(errors,
                     f,
                     f.oplog_inc,
                     "oplogInc",
                     {{&rp::checkpoint_id, "checkpointId"},
                      {&rp::snapshot_id, "snapshotId"},
                      {&rp::point_in_time, "pointInTimeUTCMillis"}},
                     "if you set oplogInc, you must set oplogTs, and can't set checkpointId, snapshotId, or "
                     "pointInTimeUTCMillis");
    check_exclusions(
        errors,
        f,
        f.oplog_ts,
        "oplogTs",
        {{&rp::checkpoint_id, "checkpointId"},
         {&rp::snapshot_id, "snapshotId"},
         {&rp::point_in_time, "pointInTimeUTCMillis"}},
        "if you set oplogTs, you must set oplogInc, and you can't set checkpointId, snapshotId, or "
        "pointInTimeUTCMillis");
    check_exclusions(
        errors,
        f,
        f.point_in_time,
        "pointInTimeUTCMillis",
        {{&rp::oplog_inc, "oplogInc"},
         {&rp::oplog_ts, "oplogTs"},
         {&rp::snapshot_id, "snapshotId"},
         {&rp::checkpoint_id, "checkpointId"}},
        "if you set pointInTimeUTCMillis, you can't set oplogInc, oplogTs, snapshotId, or checkpointId");
    check_exclusions(
        errors,
        f,
        f.snapshot_id,
        "snapshotId",
        {{&rp::oplog_inc, "oplogInc"},
         {&rp::oplog_ts, "oplogTs"},
         {&rp::point_in_time, "pointInTimeUTCMillis"},
         {&rp::checkpoint_id, "checkpointId"}},
        "if you set snapshotId, you can't set oplogInc, oplogTs, pointInTimeUTCMillis, or checkpointId");

    // The oplog pair.
    if (f.oplog_inc && !f.oplog_ts) {
        errors.push_back({"oplogInc", "requires oplogTs: if you set oplogInc, you must set oplogTs"});
    }
    if (f.oplog_ts && !f.oplog_inc) {
        errors.push_back({"oplogTs", "requires oplogInc: if you set oplogTs, you must set oplogInc"});
    }
    if (request.oplog_inc) {
        if (*request.oplog_inc < 1) {
            errors.push_back({"oplogInc", std::to_string(*request.oplog_inc) + " is below the minimum of 1"});
        } else if (*request.oplog_inc > INT32_MAX) {
            errors.push_back({"oplogInc",
                              std::to_string(*request.oplog_inc) +
                                  " is above the maximum of 2147483647 (a 32-bit "
                                  "ordinal)"});
        }
    }
    if (request.oplog_ts && !is_iso8601_date_time(*request.oplog_ts)) {
        errors.push_back(
            {"oplogTs",
             quoted(*request.oplog_ts) +
                 " is not an ISO-8601 date and time such as 2026-11-28T03:00:00Z (a real calendar "
                 "date, optional fraction of up to 9 digits, Z or a +hh:mm offset)"});
    }

    // pointInTimeUTCMillis: after the minimum and within the last 24 hours.
    if (request.point_in_time_utc_millis) {
        const std::int64_t ms = *request.point_in_time_utc_millis;
        const std::int64_t now_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
        const std::int64_t earliest = now_ms - std::chrono::milliseconds(point_in_time_window).count();
        const std::int64_t latest = now_ms + std::chrono::milliseconds(clock_skew_allowance).count();
        if (ms < min_point_in_time_utc_millis) {
            errors.push_back({"pointInTimeUTCMillis",
                              std::to_string(ms) + " is below the minimum of 1199145600000 "
                                                   "(2008-01-01T00:00:00Z)"});
        } else if (ms < earliest) {
            errors.push_back({"pointInTimeUTCMillis",
                              std::to_string(ms) +
                                  " is more than 24 hours ago: it must fall within the last 24 "
                                  "hours of the current time"});
        } else if (ms > latest) {
            errors.push_back({"pointInTimeUTCMillis",
                              std::to_string(ms) +
                                  " is in the future: it must fall within the last 24 hours of "
                                  "the current time"});
        }
    }

    if (d.expiration_hours && *d.expiration_hours < 1) {
        errors.push_back(
            {"delivery.expirationHours", std::to_string(*d.expiration_hours) + " is below the minimum of 1"});
    }
    if (d.max_downloads && *d.max_downloads < 1) {
        errors.push_back(
            {"delivery.maxDownloads", std::to_string(*d.max_downloads) + " is below the minimum of 1"});
    }

    // The delivery method, then the rules that depend on it (only once the method itself is one
    // this endpoint accepts: a wrong method is the root cause, not its consequences).
    const std::string& method = d.method_name;
    bool method_ok = false;
    if (method.empty()) {
        errors.push_back({"delivery.methodName", "is required; allowed: " + std::string(accepted_methods)});
    } else if (method == delivery_method::query) {
        errors.push_back({"delivery.methodName",
                          "QUERY: restores of queryable backup snapshots are not supported by this endpoint; "
                          "allowed: " +
                              std::string(accepted_methods)});
    } else if (method == delivery_method::scp || method == delivery_method::client_pit_scp) {
        errors.push_back({"delivery.methodName",
                          method + ": SCP delivery was removed; allowed: " + std::string(accepted_methods)});
    } else if (method == delivery_method::third_party_copy) {
        errors.push_back({"delivery.methodName",
                          "THIRD_PARTY_COPY is not a delivery this endpoint creates; allowed: " +
                              std::string(accepted_methods)});
    } else if (method == delivery_method::http || method == delivery_method::automated_restore ||
               method == delivery_method::client_pit_http) {
        method_ok = true;
    } else {
        errors.push_back(
            {"delivery.methodName",
             quoted(method) + " is not a delivery method; allowed: " + std::string(accepted_methods)});
    }
    if (!method_ok) {
        return errors;
    }

    const bool automated = method == delivery_method::automated_restore;
    const bool point_in_time_method = automated || method == delivery_method::client_pit_http;
    if (f.checkpoint_id && !automated) {
        errors.push_back(
            {"checkpointId", "applies only with delivery.methodName AUTOMATED_RESTORE (not " + method + ")"});
    }
    auto needs_pit_method = [&](bool is_set, std::string_view field) {
        if (is_set && !point_in_time_method) {
            errors.push_back(
                {std::string(field),
                 "applies only with delivery.methodName AUTOMATED_RESTORE or CLIENT_PIT_HTTP (not " + method +
                     ")"});
        }
    };
    needs_pit_method(f.oplog_ts, "oplogTs");
    needs_pit_method(f.oplog_inc, "oplogInc");
    needs_pit_method(f.point_in_time, "pointInTimeUTCMillis");

    if (automated) {
        if (!d.target_group_id) {
            errors.push_back(
                {"delivery.targetGroupId", "is required with delivery.methodName AUTOMATED_RESTORE"});
        }
        if (!d.target_cluster_name && !d.target_cluster_id) {
            errors.push_back(
                {"delivery.targetClusterName",
                 "AUTOMATED_RESTORE requires delivery.targetClusterName or delivery.targetClusterId"});
        }
    } else {
        auto only_automated = [&](const std::optional<std::string>& value, std::string_view field) {
            if (value) {
                errors.push_back(
                    {std::string(field),
                     "applies only with delivery.methodName AUTOMATED_RESTORE (not " + method + ")"});
            }
        };
        only_automated(d.target_group_id, "delivery.targetGroupId");
        only_automated(d.target_cluster_name, "delivery.targetClusterName");
        only_automated(d.target_cluster_id, "delivery.targetClusterId");
    }
    return errors;
}

}  // namespace atlas_restored::atlas
