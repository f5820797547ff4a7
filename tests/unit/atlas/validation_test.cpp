// Every seed rule for a create call, one table per rule with rows that pass and rows that fail.

#include "atlas/validation.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace atlas_restored::atlas {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

const sys_time<milliseconds> now_tp = sys_days{2026y / 11 / 28} + 12h;
const system_clock::time_point now = now_tp;
const std::int64_t now_ms = now_tp.time_since_epoch().count();

constexpr const char* hex_a = "32b6e34b3d91647abb20e7b8";
constexpr const char* hex_b = "5f1b2c3d4e5f6a7b8c9d0e1f";

create_restore_job_request http_snapshot() {
    create_restore_job_request r;
    r.snapshot_id = hex_a;
    r.delivery.method_name = "HTTP";
    return r;
}

create_restore_job_request automated_snapshot() {
    create_restore_job_request r;
    r.snapshot_id = hex_a;
    r.delivery.method_name = "AUTOMATED_RESTORE";
    r.delivery.target_group_id = hex_b;
    r.delivery.target_cluster_name = "orders-drill";
    return r;
}

std::vector<std::string> fields(const std::vector<field_error>& errors) {
    std::vector<std::string> out;
    for (const auto& e : errors) {
        out.push_back(e.field);
    }
    return out;
}

std::string dump(const std::vector<field_error>& errors) {
    std::string out;
    for (const auto& e : errors) {
        out += "  [" + e.field + "] " + e.message + "\n";
    }
    return out;
}

struct row {
    std::string name;
    std::function<create_restore_job_request()> make;
    std::vector<std::string> expected_fields;  // empty: valid
    std::string message_part = {};             // in the first expected field's message
};

void check_rows(const std::vector<row>& rows) {
    for (const auto& r : rows) {
        SCOPED_TRACE(r.name);
        const auto errors = validate_create_request(r.make(), now);
        EXPECT_THAT(fields(errors), ::testing::UnorderedElementsAreArray(r.expected_fields)) << dump(errors);
        if (!r.message_part.empty()) {
            ASSERT_FALSE(errors.empty());
            bool found = false;
            for (const auto& e : errors) {
                found = found || (e.field == r.expected_fields.front() &&
                                  e.message.find(r.message_part) != std::string::npos);
            }
            EXPECT_TRUE(found) << "no message containing '" << r.message_part << "'\n" << dump(errors);
        }
    }
}

template <class F>
std::function<create_restore_job_request()> with(create_restore_job_request (*base)(), F change) {
    return [base, change] {
        create_restore_job_request r = base();
        change(r);
        return r;
    };
}

TEST(Validation, Hex24Predicate) {
    EXPECT_TRUE(is_hex24(hex_a));
    EXPECT_TRUE(is_hex24("000000000000000000000000"));
    EXPECT_FALSE(is_hex24("32B6E34B3D91647ABB20E7B8"));   // upper case
    EXPECT_FALSE(is_hex24("32b6e34b3d91647abb20e7b"));    // 23
    EXPECT_FALSE(is_hex24("32b6e34b3d91647abb20e7b8a"));  // 25
    EXPECT_FALSE(is_hex24("32b6e34b3d91647abb20e7bg"));
    EXPECT_FALSE(is_hex24(""));
    EXPECT_FALSE(
        is_hex24(std::string_view("32b6e34b3d91647abb20e7\0"
                                  "8",
                                  24)));
}

TEST(Validation, ClusterNamePredicate) {
    EXPECT_TRUE(is_cluster_name("orders-prod"));
    EXPECT_TRUE(is_cluster_name("A"));
    EXPECT_TRUE(is_cluster_name("0abc-"));
    EXPECT_FALSE(is_cluster_name(""));
    EXPECT_FALSE(is_cluster_name("-orders"));
    EXPECT_FALSE(is_cluster_name("orders_prod"));
    EXPECT_FALSE(is_cluster_name("orders prod"));
    EXPECT_FALSE(is_cluster_name("orders/prod"));
    EXPECT_FALSE(is_cluster_name("ördérs"));
}

TEST(Validation, Iso8601DateTime) {
    for (const char* valid : {"2026-11-28T03:00:00Z",
                              "2024-02-29T00:00:00Z",  // leap year
                              "2000-02-29T23:59:59Z",  // divisible by 400
                              "2026-11-28T03:00:00.1Z",
                              "2026-11-28T03:00:00.123456789Z",
                              "2026-11-28T03:00:00+05:30",
                              "2026-11-28T03:00:00-00:00",
                              "1000-01-31T00:00:00Z",
                              "9999-12-31T23:59:59+19:59"}) {
        EXPECT_TRUE(is_iso8601_date_time(valid)) << valid;
    }
    for (const char* invalid : {"",
                                "2023-02-29T00:00:00Z",  // not a leap year
                                "1900-02-29T00:00:00Z",  // divisible by 100, not 400
                                "2026-13-01T00:00:00Z",
                                "2026-00-01T00:00:00Z",
                                "2026-04-31T00:00:00Z",
                                "2026-11-00T00:00:00Z",
                                "2026-11-28T24:00:00Z",
                                "2026-11-28T03:60:00Z",
                                "2026-11-28T03:00:60Z",
                                "2026-11-28 03:00:00Z",
                                "2026-11-28T03:00:00",   // no zone
                                "2026-11-28T03:00:00z",  // lower-case zone
                                "2026-11-28T03:00:00.Z",
                                "2026-11-28T03:00:00.1234567890Z",  // 10 fraction digits
                                "0999-01-01T00:00:00Z",
                                "2026-11-28T03:00:00+5:30",
                                "2026-11-28T03:00:00+20:00",
                                "2026-11-28T03:00:00+05:60",
                                "2026-11-28T03:00:00Z ",
                                "2026-11-28",
                                "1732770000",
                                "2026-11-28T03:00Z"}) {
        EXPECT_FALSE(is_iso8601_date_time(invalid)) << invalid;
    }
}

TEST(Validation, TargetPathParameters) {
    EXPECT_TRUE(validate_target(hex_a, "orders-prod").empty());
    auto errors = validate_target("32B6E34B3D91647ABB20E7B8", "orders-prod");
    EXPECT_THAT(fields(errors), ::testing::ElementsAre("groupId"));
    EXPECT_THAT(errors[0].message, ::testing::HasSubstr("^([a-f0-9]{24})$"));
    errors = validate_target(hex_a, "-orders");
    EXPECT_THAT(fields(errors), ::testing::ElementsAre("clusterName"));
    EXPECT_THAT(errors[0].message, ::testing::HasSubstr("^[a-zA-Z0-9][a-zA-Z0-9-]*$"));
    EXPECT_THAT(fields(validate_target("", "")), ::testing::ElementsAre("groupId", "clusterName"));
}

TEST(Validation, BaselinesAreValid) {
    EXPECT_TRUE(validate_create_request(http_snapshot(), now).empty())
        << dump(validate_create_request(http_snapshot(), now));
    EXPECT_TRUE(validate_create_request(automated_snapshot(), now).empty());
}

TEST(Validation, IdFieldsAreHex24) {
    check_rows({
        {"snapshotId valid", http_snapshot, {}},
        {"snapshotId upper case",
         with(http_snapshot, [](auto& r) { r.snapshot_id = "32B6E34B3D91647ABB20E7B8"; }),
         {"snapshotId"},
         "24 lower-case hexadecimal"},
        {"snapshotId short",
         with(http_snapshot, [](auto& r) { r.snapshot_id = "abc"; }),
         {"snapshotId"},
         "\"abc\""},
        {"snapshotId empty", with(http_snapshot, [](auto& r) { r.snapshot_id = ""; }), {"snapshotId"}},
        {"checkpointId valid",
         with(automated_snapshot,
              [](auto& r) {
                  r.snapshot_id.reset();
                  r.checkpoint_id = hex_b;
              }),
         {}},
        {"checkpointId invalid",
         with(automated_snapshot,
              [](auto& r) {
                  r.snapshot_id.reset();
                  r.checkpoint_id = "not-a-checkpoint";
              }),
         {"checkpointId"},
         "24 lower-case hexadecimal"},
        {"targetGroupId invalid",
         with(automated_snapshot, [](auto& r) { r.delivery.target_group_id = "xyz"; }),
         {"delivery.targetGroupId"},
         "24 lower-case hexadecimal"},
        {"targetClusterId valid",
         with(automated_snapshot,
              [](auto& r) {
                  r.delivery.target_cluster_name.reset();
                  r.delivery.target_cluster_id = hex_b;
              }),
         {}},
        {"targetClusterId invalid",
         with(automated_snapshot,
              [](auto& r) {
                  r.delivery.target_cluster_name.reset();
                  r.delivery.target_cluster_id = "5F1B2C3D4E5F6A7B8C9D0E1F";
              }),
         {"delivery.targetClusterId"},
         "24 lower-case hexadecimal"},
    });
}

TEST(Validation, TargetClusterNamePattern) {
    check_rows({
        {"valid", automated_snapshot, {}},
        {"single letter",
         with(automated_snapshot, [](auto& r) { r.delivery.target_cluster_name = "A"; }),
         {}},
        {"leading hyphen",
         with(automated_snapshot, [](auto& r) { r.delivery.target_cluster_name = "-drill"; }),
         {"delivery.targetClusterName"},
         "^[a-zA-Z0-9][a-zA-Z0-9-]*$"},
        {"underscore",
         with(automated_snapshot, [](auto& r) { r.delivery.target_cluster_name = "orders_drill"; }),
         {"delivery.targetClusterName"}},
        {"empty",
         with(automated_snapshot, [](auto& r) { r.delivery.target_cluster_name = ""; }),
         {"delivery.targetClusterName"}},
    });
}

TEST(Validation, ExactlyOneRestorePointIsRequired) {
    check_rows({
        {"none",
         with(http_snapshot, [](auto& r) { r.snapshot_id.reset(); }),
         {""},
         "a restore point is required"},
        {"snapshot only", http_snapshot, {}},
        {"checkpoint only",
         with(automated_snapshot,
              [](auto& r) {
                  r.snapshot_id.reset();
                  r.checkpoint_id = hex_b;
              }),
         {}},
        {"oplog pair only",
         with(automated_snapshot,
              [](auto& r) {
                  r.snapshot_id.reset();
                  r.oplog_ts = "2026-11-28T03:00:00Z";
                  r.oplog_inc = 1;
              }),
         {}},
        {"point in time only",
         with(automated_snapshot,
              [](auto& r) {
                  r.snapshot_id.reset();
                  r.point_in_time_utc_millis = now_ms - 3'600'000;
              }),
         {}},
    });
}

TEST(Validation, MutualExclusionsAsTheSeedWordsThem) {
    check_rows({
        {"snapshotId + checkpointId",
         with(automated_snapshot, [](auto& r) { r.checkpoint_id = hex_b; }),
         {"snapshotId", "checkpointId"},
         "if you set snapshotId, you can't set oplogInc, oplogTs, pointInTimeUTCMillis, or checkpointId"},
        {"checkpointId + snapshotId (checkpoint's wording)",
         with(automated_snapshot, [](auto& r) { r.checkpoint_id = hex_b; }),
         {"checkpointId", "snapshotId"},
         "if you set checkpointId, you can't set oplogInc, oplogTs, snapshotId, or pointInTimeUTCMillis"},
        {"snapshotId + pointInTimeUTCMillis",
         with(automated_snapshot, [](auto& r) { r.point_in_time_utc_millis = now_ms - 1000; }),
         {"pointInTimeUTCMillis", "snapshotId"},
         "if you set pointInTimeUTCMillis, you can't set oplogInc, oplogTs, snapshotId, or checkpointId"},
        {"snapshotId + oplog pair",
         with(automated_snapshot,
              [](auto& r) {
                  r.oplog_ts = "2026-11-28T03:00:00Z";
                  r.oplog_inc = 1;
              }),
         {"oplogInc", "oplogTs", "snapshotId"},
         "if you set oplogInc, you must set oplogTs, and can't set checkpointId, snapshotId, or "
         "pointInTimeUTCMillis"},
        {"oplogTs wording",
         with(automated_snapshot,
              [](auto& r) {
                  r.oplog_ts = "2026-11-28T03:00:00Z";
                  r.oplog_inc = 1;
              }),
         {"oplogTs", "oplogInc", "snapshotId"},
         "if you set oplogTs, you must set oplogInc, and you can't set checkpointId, snapshotId, or "
         "pointInTimeUTCMillis"},
        {"checkpointId + pointInTimeUTCMillis",
         with(automated_snapshot,
              [](auto& r) {
                  r.snapshot_id.reset();
                  r.checkpoint_id = hex_b;
                  r.point_in_time_utc_millis = now_ms - 1000;
              }),
         {"checkpointId", "pointInTimeUTCMillis"},
         "can't be set together with pointInTimeUTCMillis"},
        {"oplog pair + pointInTimeUTCMillis",
         with(automated_snapshot,
              [](auto& r) {
                  r.snapshot_id.reset();
                  r.oplog_ts = "2026-11-28T03:00:00Z";
                  r.oplog_inc = 7;
                  r.point_in_time_utc_millis = now_ms - 1000;
              }),
         {"pointInTimeUTCMillis", "oplogInc", "oplogTs"},
         "can't be set together with oplogInc and oplogTs"},
    });
}

TEST(Validation, OplogPairAndIncMinimum) {
    auto oplog = [](std::optional<std::string> ts, std::optional<std::int64_t> inc) {
        return with(automated_snapshot, [ts, inc](auto& r) {
            r.snapshot_id.reset();
            r.oplog_ts = ts;
            r.oplog_inc = inc;
        });
    };
    check_rows({
        {"inc 1", oplog("2026-11-28T03:00:00Z", 1), {}},
        {"inc max int32", oplog("2026-11-28T03:00:00Z", 2147483647), {}},
        {"inc 0", oplog("2026-11-28T03:00:00Z", 0), {"oplogInc"}, "minimum of 1"},
        {"inc negative", oplog("2026-11-28T03:00:00Z", -5), {"oplogInc"}, "minimum of 1"},
        {"inc beyond int32", oplog("2026-11-28T03:00:00Z", 2147483648), {"oplogInc"}, "maximum"},
        {"inc without ts", oplog(std::nullopt, 1), {"oplogInc"}, "requires oplogTs"},
        {"ts without inc", oplog("2026-11-28T03:00:00Z", std::nullopt), {"oplogTs"}, "requires oplogInc"},
    });
}

TEST(Validation, OplogTsIsAnIsoDateTime) {
    auto ts = [](std::string value) {
        return with(automated_snapshot, [value](auto& r) {
            r.snapshot_id.reset();
            r.oplog_ts = value;
            r.oplog_inc = 1;
        });
    };
    check_rows({
        {"Z", ts("2026-11-28T03:00:00Z"), {}},
        {"fraction and offset", ts("2026-11-28T03:00:00.5+01:00"), {}},
        {"leap day", ts("2024-02-29T03:00:00Z"), {}},
        {"not a leap year", ts("2025-02-29T03:00:00Z"), {"oplogTs"}, "ISO-8601"},
        {"epoch seconds", ts("1732770000"), {"oplogTs"}, "ISO-8601"},
        {"no zone", ts("2026-11-28T03:00:00"), {"oplogTs"}},
        {"the spec's buggy regex would want a backslash", ts("2026-11-28T03:00:00\\Z"), {"oplogTs"}},
    });
}

TEST(Validation, PointInTimeMinimumAndWindow) {
    auto pit = [](std::int64_t ms) {
        return with(automated_snapshot, [ms](auto& r) {
            r.snapshot_id.reset();
            r.point_in_time_utc_millis = ms;
        });
    };
    check_rows({
        {"an hour ago", pit(now_ms - 3'600'000), {}},
        {"now", pit(now_ms), {}},
        {"just inside 24 h", pit(now_ms - 24 * 3'600'000 + 1000), {}},
        {"just outside 24 h", pit(now_ms - 24 * 3'600'000 - 1000), {"pointInTimeUTCMillis"}, "last 24 hours"},
        {"within clock skew", pit(now_ms + 4 * 60'000), {}},
        {"beyond clock skew", pit(now_ms + 6 * 60'000), {"pointInTimeUTCMillis"}, "in the future"},
        {"below minimum", pit(1199145599999), {"pointInTimeUTCMillis"}, "minimum of 1199145600000"},
        {"negative", pit(-1), {"pointInTimeUTCMillis"}, "minimum"},
        {"huge", pit(INT64_MAX), {"pointInTimeUTCMillis"}, "in the future"},
    });
    // The minimum is the seed's: at the minimum itself, only the window can fail.
    const auto at_min = sys_time<milliseconds>(milliseconds(min_point_in_time_utc_millis)) + 1h;
    EXPECT_TRUE(validate_create_request(pit(min_point_in_time_utc_millis)(), at_min).empty());
}

TEST(Validation, CheckpointOnlyWithAutomatedRestore) {
    auto checkpoint_with = [](std::string method) {
        return [method] {
            create_restore_job_request r;
            r.checkpoint_id = hex_b;
            r.delivery.method_name = method;
            if (method == "AUTOMATED_RESTORE") {
                r.delivery.target_group_id = hex_a;
                r.delivery.target_cluster_name = "drill";
            }
            return r;
        };
    };
    check_rows({
        {"AUTOMATED_RESTORE", checkpoint_with("AUTOMATED_RESTORE"), {}},
        {"HTTP",
         checkpoint_with("HTTP"),
         {"checkpointId"},
         "only with delivery.methodName AUTOMATED_RESTORE"},
        {"CLIENT_PIT_HTTP", checkpoint_with("CLIENT_PIT_HTTP"), {"checkpointId"}, "AUTOMATED_RESTORE"},
    });
}

TEST(Validation, OplogAndPointInTimeOnlyWithAutomatedOrClientPit) {
    auto pit_with = [](std::string method) {
        return [method] {
            create_restore_job_request r;
            r.point_in_time_utc_millis = now_ms - 60'000;
            r.delivery.method_name = method;
            if (method == "AUTOMATED_RESTORE") {
                r.delivery.target_group_id = hex_a;
                r.delivery.target_cluster_name = "drill";
            }
            return r;
        };
    };
    auto oplog_with = [](std::string method) {
        return [method] {
            create_restore_job_request r;
            r.oplog_ts = "2026-11-28T03:00:00Z";
            r.oplog_inc = 3;
            r.delivery.method_name = method;
            return r;
        };
    };
    check_rows({
        {"pit AUTOMATED_RESTORE", pit_with("AUTOMATED_RESTORE"), {}},
        {"pit CLIENT_PIT_HTTP", pit_with("CLIENT_PIT_HTTP"), {}},
        {"pit HTTP", pit_with("HTTP"), {"pointInTimeUTCMillis"}, "AUTOMATED_RESTORE or CLIENT_PIT_HTTP"},
        {"oplog CLIENT_PIT_HTTP", oplog_with("CLIENT_PIT_HTTP"), {}},
        {"oplog HTTP", oplog_with("HTTP"), {"oplogTs", "oplogInc"}, "AUTOMATED_RESTORE or CLIENT_PIT_HTTP"},
    });
}

TEST(Validation, AutomatedRestoreNeedsItsTarget) {
    check_rows({
        {"group + name", automated_snapshot, {}},
        {"group + id",
         with(automated_snapshot,
              [](auto& r) {
                  r.delivery.target_cluster_name.reset();
                  r.delivery.target_cluster_id = hex_b;
              }),
         {}},
        {"group + name + id",
         with(automated_snapshot, [](auto& r) { r.delivery.target_cluster_id = hex_b; }),
         {}},
        {"no group",
         with(automated_snapshot, [](auto& r) { r.delivery.target_group_id.reset(); }),
         {"delivery.targetGroupId"},
         "required with delivery.methodName AUTOMATED_RESTORE"},
        {"no cluster",
         with(automated_snapshot, [](auto& r) { r.delivery.target_cluster_name.reset(); }),
         {"delivery.targetClusterName"},
         "targetClusterName or delivery.targetClusterId"},
        {"nothing",
         with(automated_snapshot,
              [](auto& r) {
                  r.delivery.target_cluster_name.reset();
                  r.delivery.target_group_id.reset();
              }),
         {"delivery.targetGroupId", "delivery.targetClusterName"}},
    });
}

TEST(Validation, TargetFieldsOnlyWithAutomatedRestore) {
    check_rows({
        {"HTTP plain", http_snapshot, {}},
        {"HTTP + targetGroupId",
         with(http_snapshot, [](auto& r) { r.delivery.target_group_id = hex_b; }),
         {"delivery.targetGroupId"},
         "only with delivery.methodName AUTOMATED_RESTORE"},
        {"HTTP + targetClusterName",
         with(http_snapshot, [](auto& r) { r.delivery.target_cluster_name = "x"; }),
         {"delivery.targetClusterName"},
         "AUTOMATED_RESTORE"},
        {"CLIENT_PIT_HTTP + targetClusterId",
         with(http_snapshot,
              [](auto& r) {
                  r.delivery.method_name = "CLIENT_PIT_HTTP";
                  r.delivery.target_cluster_id = hex_b;
              }),
         {"delivery.targetClusterId"},
         "AUTOMATED_RESTORE"},
    });
}

TEST(Validation, ExpirationHoursAndMaxDownloadsMinimum) {
    check_rows({
        {"both 1",
         with(http_snapshot,
              [](auto& r) {
                  r.delivery.expiration_hours = 1;
                  r.delivery.max_downloads = 1;
              }),
         {}},
        {"large", with(http_snapshot, [](auto& r) { r.delivery.max_downloads = 2147483647; }), {}},
        {"expirationHours 0",
         with(http_snapshot, [](auto& r) { r.delivery.expiration_hours = 0; }),
         {"delivery.expirationHours"},
         "minimum of 1"},
        {"maxDownloads -1",
         with(http_snapshot, [](auto& r) { r.delivery.max_downloads = -1; }),
         {"delivery.maxDownloads"},
         "minimum of 1"},
    });
}

TEST(Validation, DeliveryMethodName) {
    auto method = [](std::string m) {
        return with(http_snapshot, [m](auto& r) { r.delivery.method_name = m; });
    };
    check_rows({
        {"HTTP", method("HTTP"), {}},
        {"CLIENT_PIT_HTTP", method("CLIENT_PIT_HTTP"), {}},
        {"missing", method(""), {"delivery.methodName"}, "is required"},
        {"unknown", method("FTP"), {"delivery.methodName"}, "\"FTP\" is not a delivery method"},
        {"lower case", method("http"), {"delivery.methodName"}, "not a delivery method"},
        {"QUERY",
         method("QUERY"),
         {"delivery.methodName"},
         "restores of queryable backup snapshots are not supported by this endpoint"},
        {"SCP", method("SCP"), {"delivery.methodName"}, "SCP delivery was removed"},
        {"CLIENT_PIT_SCP", method("CLIENT_PIT_SCP"), {"delivery.methodName"}, "SCP delivery was removed"},
        {"THIRD_PARTY_COPY",
         method("THIRD_PARTY_COPY"),
         {"delivery.methodName"},
         "not a delivery this endpoint creates"},
    });
}

TEST(Validation, ReportsEveryErrorNotJustTheFirst) {
    create_restore_job_request r;
    r.snapshot_id = "nope";
    r.checkpoint_id = "also-nope";
    r.delivery.method_name = "AUTOMATED_RESTORE";
    r.delivery.expiration_hours = 0;
    r.delivery.max_downloads = 0;
    r.delivery.target_cluster_name = "_bad";
    const auto errors = validate_create_request(r, now);
    EXPECT_THAT(fields(errors),
                ::testing::UnorderedElementsAre("snapshotId",
                                                "snapshotId",
                                                "checkpointId",
                                                "checkpointId",
                                                "delivery.targetClusterName",
                                                "delivery.expirationHours",
                                                "delivery.maxDownloads",
                                                "delivery.targetGroupId"))
        << dump(errors);
}

TEST(Validation, MessagesQuoteHostileValuesBriefly) {
    create_restore_job_request r = http_snapshot();
    r.snapshot_id = std::string(100000, 'z');
    const auto errors = validate_create_request(r, now);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_LT(errors[0].message.size(), 200u);
}

}  // namespace
}  // namespace atlas_restored::atlas
