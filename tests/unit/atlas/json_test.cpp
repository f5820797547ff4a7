// Boost.JSON readers and writers for the Atlas resources: realistic bodies, strict types, hostile
// input.

#include "atlas/json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace atlas_restored::atlas {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

// The shape of the seed's create/list response, with a sharded batch's second job.
constexpr const char* restore_job_list = R"({
  "links": [{"href": "https://cloud.mongodb.com/api/atlas", "rel": "self"}],
  "results": [
    {
      "batchId": "5a66783b80eef5354c77ee13",
      "clusterId": "32b6e34b3d91647abb20e7b8",
      "clusterName": "Cluster0",
      "created": "2025-05-04T09:42:00Z",
      "delivery": {
        "authHeader": "X-Restore-Key",
        "authValue": "s3cr3t",
        "expirationHours": 4,
        "expires": "2025-05-04T13:42:00Z",
        "maxDownloads": 2,
        "methodName": "HTTP",
        "statusName": "READY",
        "url": "https://api-backup.mongodb.com/backup/restore/v2/pull/x/KEY/file.tar.gz",
        "urlV2": "https://api-backup.mongodb.com/backup/restore/v2/pull/x/file.tar.gz"
      },
      "encryptionEnabled": false,
      "groupId": "32b6e34b3d91647abb20e7b8",
      "hashes": [
        {"fileName": "Cluster0-shard-0-1516661094.tar.gz",
         "hash": "a98af3c1f85a9eb3061423cda0fad8b4d0a48209",
         "links": [{"href": "https://cloud.mongodb.com/api/atlas", "rel": "self"}],
         "typeName": "SHA1"}
      ],
      "id": "5a66783b80eef5354c77ee16",
      "links": [{"href": "https://cloud.mongodb.com/api/atlas", "rel": "self"}],
      "masterKeyUUID": null,
      "snapshotId": "5a66689487d9d61443b46149",
      "statusName": "FINISHED",
      "timestamp": {"date": "2025-05-04T09:42:00Z", "increment": 1},
      "pointInTime": false
    },
    {
      "batchId": "5a66783b80eef5354c77ee13",
      "delivery": {"methodName": "HTTP", "statusName": "IN_PROGRESS"},
      "id": "5a66783b80eef5354c77ee17",
      "statusName": "IN_PROGRESS"
    }
  ],
  "totalCount": 2
})";

json::value parse(std::string_view text) {
    return json::parse(text);
}

TEST(Json, ParsesTheSeedRestoreJobList) {
    auto page = parse_restore_job_page(parse(restore_job_list));
    ASSERT_TRUE(page) << page.error().message;
    ASSERT_EQ(page->results.size(), 2u);
    EXPECT_EQ(page->total_count, 2);
    ASSERT_EQ(page->links.size(), 1u);
    EXPECT_EQ(page->links[0].rel, "self");
    EXPECT_FALSE(page->envelope_status);

    const restore_job& j = page->results[0];
    EXPECT_EQ(j.id, "5a66783b80eef5354c77ee16");
    EXPECT_EQ(j.batch_id, "5a66783b80eef5354c77ee13");
    EXPECT_EQ(j.cluster_id, "32b6e34b3d91647abb20e7b8");
    EXPECT_EQ(j.cluster_name, "Cluster0");
    EXPECT_EQ(j.created, "2025-05-04T09:42:00Z");
    EXPECT_EQ(j.encryption_enabled, false);
    EXPECT_EQ(j.group_id, "32b6e34b3d91647abb20e7b8");
    EXPECT_FALSE(j.master_key_uuid);  // null is "not set"
    EXPECT_EQ(j.snapshot_id, "5a66689487d9d61443b46149");
    EXPECT_EQ(j.status_name, "FINISHED");
    ASSERT_TRUE(j.timestamp);
    EXPECT_EQ(j.timestamp->date, "2025-05-04T09:42:00Z");
    EXPECT_EQ(j.timestamp->increment, 1);
    ASSERT_EQ(j.hashes.size(), 1u);
    EXPECT_EQ(j.hashes[0].file_name, "Cluster0-shard-0-1516661094.tar.gz");
    EXPECT_EQ(j.hashes[0].hash, "a98af3c1f85a9eb3061423cda0fad8b4d0a48209");
    EXPECT_EQ(j.hashes[0].type_name, "SHA1");

    const delivery& d = j.delivery_info;
    EXPECT_EQ(d.method_name, "HTTP");
    EXPECT_EQ(d.status_name, "READY");
    EXPECT_EQ(d.auth_header, "X-Restore-Key");
    EXPECT_EQ(d.auth_value, "s3cr3t");
    EXPECT_EQ(d.expiration_hours, 4);
    EXPECT_EQ(d.expires, "2025-05-04T13:42:00Z");
    EXPECT_EQ(d.max_downloads, 2);
    EXPECT_THAT(d.url.value_or(""), HasSubstr("/KEY/"));
    EXPECT_THAT(d.url_v2.value_or(""), HasSubstr("/pull/x/file.tar.gz"));
    EXPECT_FALSE(d.target_group_id);

    const restore_job& k = page->results[1];
    EXPECT_EQ(k.status_name, "IN_PROGRESS");
    EXPECT_TRUE(k.hashes.empty());
    EXPECT_FALSE(k.timestamp);
    EXPECT_FALSE(k.delivery_info.url_v2);
}

TEST(Json, ParsesSnapshotsWithParts) {
    auto page = parse_snapshot_page(parse(R"({
      "links": [],
      "results": [{
        "clusterId": "32b6e34b3d91647abb20e7b8",
        "clusterName": null,
        "complete": true,
        "created": {"date": "2026-11-27T03:00:00Z", "increment": 1},
        "doNotDelete": false,
        "expires": "2026-12-27T03:00:00Z",
        "groupId": "32b6e34b3d91647abb20e7b8",
        "id": "5f1b2c3d4e5f6a7b8c9d0e1f",
        "incremental": true,
        "lastOplogAppliedTimestamp": {"date": "2026-11-27T02:59:58Z", "increment": 4},
        "links": [{"href": "https://cloud.mongodb.com/x", "rel": "self"}],
        "parts": [{
          "clusterId": "32b6e34b3d91647abb20e7b8",
          "completedTime": "2026-11-27T03:05:00Z",
          "compressionSetting": "GZIP",
          "dataSizeBytes": 1073741824,
          "encryptionEnabled": false,
          "fcv": "7.0",
          "fileSizeBytes": 5368709120,
          "machineId": "shard0.example.net:27017",
          "masterKeyUUID": "e1c5a0f2-3c1f-4a6b-9b32-1f3c3c1b2a11",
          "mongodVersion": "7.0.12",
          "replicaSetName": "Cluster0-shard-0",
          "replicaState": "PRIMARY",
          "storageSizeBytes": 2147483648,
          "typeName": "REPLICA_SET"
        }, {"typeName": "CONFIG_SERVER_REPLICA_SET"}]
      }],
      "totalCount": 1
    })"));
    ASSERT_TRUE(page) << page.error().message;
    ASSERT_EQ(page->results.size(), 1u);
    const snapshot& s = page->results[0];
    EXPECT_EQ(s.id, "5f1b2c3d4e5f6a7b8c9d0e1f");
    EXPECT_TRUE(s.complete);
    EXPECT_FALSE(s.cluster_name);
    ASSERT_TRUE(s.created);
    EXPECT_EQ(s.created->date, "2026-11-27T03:00:00Z");
    EXPECT_EQ(s.last_oplog_applied_timestamp->increment, 4);
    EXPECT_EQ(s.do_not_delete, false);
    EXPECT_EQ(s.incremental, true);
    ASSERT_EQ(s.parts.size(), 2u);
    EXPECT_EQ(s.parts[0].file_size_bytes, 5368709120);  // beyond 32 bits
    EXPECT_EQ(s.parts[0].data_size_bytes, 1073741824);
    EXPECT_EQ(s.parts[0].storage_size_bytes, 2147483648);
    EXPECT_EQ(s.parts[0].mongod_version, "7.0.12");
    EXPECT_EQ(s.parts[0].replica_set_name, "Cluster0-shard-0");
    EXPECT_EQ(s.parts[1].type_name, "CONFIG_SERVER_REPLICA_SET");
    EXPECT_FALSE(s.parts[1].file_size_bytes);
}

TEST(Json, ParsesCheckpoints) {
    auto page = parse_checkpoint_page(parse(R"({
      "results": [{
        "clusterId": "32b6e34b3d91647abb20e7b8",
        "completed": "2026-11-28T01:00:05Z",
        "groupId": "32b6e34b3d91647abb20e7b8",
        "id": "6a1b2c3d4e5f6a7b8c9d0e1f",
        "links": [],
        "parts": [{"replicaSetName": "rs0", "shardName": "shard-0", "tokenDiscovered": true,
                   "tokenTimestamp": {"date": "2026-11-28T01:00:00Z", "increment": 2},
                   "typeName": "REPLICA_SET"}],
        "restorable": true,
        "started": "2026-11-28T01:00:00Z",
        "timestamp": "2026-11-28T01:00:00Z"
      }]
    })"));
    ASSERT_TRUE(page) << page.error().message;
    ASSERT_EQ(page->results.size(), 1u);
    const checkpoint& c = page->results[0];
    EXPECT_EQ(c.id, "6a1b2c3d4e5f6a7b8c9d0e1f");
    EXPECT_EQ(c.restorable, true);
    EXPECT_EQ(c.timestamp, "2026-11-28T01:00:00Z");
    ASSERT_EQ(c.parts.size(), 1u);
    EXPECT_EQ(c.parts[0].shard_name, "shard-0");
    EXPECT_EQ(c.parts[0].token_discovered, true);
    EXPECT_EQ(c.parts[0].token_timestamp->increment, 2);
    EXPECT_FALSE(page->total_count);  // includeCount=false
}

TEST(Json, ParsesApiError) {
    auto e = parse_api_error(parse(R"({"detail":"Rate limit exceeded.","error":429,
        "errorCode":"RATE_LIMITED_TOKEN_BUCKET","parameters":["api/atlas/v2/orgs",55,10,5,60],
        "reason":"Too Many Requests"})"));
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e->error, 429);
    EXPECT_EQ(e->error_code, "RATE_LIMITED_TOKEN_BUCKET");
    EXPECT_EQ(e->detail, "Rate limit exceeded.");
    EXPECT_EQ(e->reason, "Too Many Requests");
    // detail and reason are nullable.
    auto minimal = parse_api_error(parse(R"({"error":404,"errorCode":"RESOURCE_NOT_FOUND","detail":null})"));
    ASSERT_TRUE(minimal);
    EXPECT_EQ(minimal->detail, "");
    // An OAuth error body ({"error":"invalid_client"}) is not an ApiError.
    EXPECT_FALSE(parse_api_error(parse(R"({"error":"invalid_client"})")));
    EXPECT_FALSE(parse_api_error(parse(R"({"error":400})")));
}

struct bad_case {
    const char* body;
    const char* message;
};

TEST(Json, WrongTypesNameTheField) {
    const bad_case cases[] = {
        {R"([])", "restore job: expected a JSON object"},
        {R"({"delivery":{"methodName":"HTTP"}})", "restore job: field 'id' is missing"},
        {R"({"id":"","delivery":{"methodName":"HTTP"}})", "restore job: field 'id' is empty"},
        {R"({"id":5,"delivery":{"methodName":"HTTP"}})", "restore job: field 'id' is not a string"},
        {R"({"id":"a"})", "restore job: field 'delivery' is missing"},
        {R"({"id":"a","delivery":null})", "restore job: field 'delivery' is missing"},
        {R"({"id":"a","delivery":"HTTP"})", "restore job: field 'delivery' is not an object"},
        {R"({"id":"a","delivery":{}})", "restore job: field 'delivery.methodName' is missing"},
        {R"({"id":"a","delivery":{"methodName":"HTTP","statusName":7}})",
         "restore job: field 'delivery.statusName' is not a string"},
        {R"({"id":"a","statusName":true,"delivery":{"methodName":"HTTP"}})",
         "restore job: field 'statusName' is not a string"},
        {R"({"id":"a","delivery":{"methodName":"HTTP","maxDownloads":"2"}})",
         "restore job: field 'delivery.maxDownloads' is not an integer"},
        {R"({"id":"a","delivery":{"methodName":"HTTP","maxDownloads":2.0}})",
         "restore job: field 'delivery.maxDownloads' is not an integer"},
        {R"({"id":"a","delivery":{"methodName":"HTTP","maxDownloads":2147483648}})",
         "restore job: field 'delivery.maxDownloads' is out of range"},
        {R"({"id":"a","delivery":{"methodName":"HTTP","expirationHours":-2147483649}})",
         "restore job: field 'delivery.expirationHours' is out of range"},
        {R"({"id":"a","delivery":{"methodName":"HTTP"},"encryptionEnabled":"true"})",
         "restore job: field 'encryptionEnabled' is not a boolean"},
        {R"({"id":"a","delivery":{"methodName":"HTTP"},"hashes":{}})",
         "restore job: field 'hashes' is not an array"},
        {R"({"id":"a","delivery":{"methodName":"HTTP"},"hashes":[{"hash":"x"},"y"]})",
         "restore job: field 'hashes[1]' is not an object"},
        {R"({"id":"a","delivery":{"methodName":"HTTP"},"hashes":[{"hash":1}]})",
         "restore job: field 'hashes[0].hash' is not a string"},
        {R"({"id":"a","delivery":{"methodName":"HTTP"},"timestamp":{"increment":"1"}})",
         "restore job: field 'timestamp.increment' is not an integer"},
        {R"({"id":"a","delivery":{"methodName":"HTTP"},"timestamp":{"increment":18446744073709551615}})",
         "restore job: field 'timestamp.increment' is out of range"},
        {R"({"id":"a","delivery":{"methodName":"HTTP"},"timestamp":{"increment":1e400}})", nullptr},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.body);
        boost::system::error_code ec;
        const json::value v = json::parse(c.body, ec);
        if (ec) {  // the JSON parser itself refuses some of them; that is fine too
            EXPECT_EQ(c.message, nullptr);
            continue;
        }
        auto job = parse_restore_job(v);
        ASSERT_FALSE(job);
        EXPECT_EQ(job.error().code, errc::bad_response);
        if (c.message != nullptr) {
            EXPECT_EQ(job.error().message, c.message);
        }
    }
}

TEST(Json, PageErrorsNameThePath) {
    auto p = parse_restore_job_page(parse(R"({"results":[{"id":"a","delivery":{"methodName":"HTTP"}},
                                                          {"id":"b","delivery":{"methodName":1}}]})"));
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().message, "restore job list: field 'results[1].delivery.methodName' is not a string");
    EXPECT_EQ(parse_restore_job_page(parse(R"({"totalCount":1})")).error().message,
              "restore job list: field 'results' is missing");
    EXPECT_EQ(parse_snapshot_page(parse(R"({"results":[],"totalCount":-1})")).error().message,
              "snapshot list: field 'totalCount' is negative");
    EXPECT_EQ(parse_checkpoint_page(parse(R"({"results":[{}]})")).error().message,
              "checkpoint list: field 'results[0].id' is missing");
    EXPECT_EQ(parse_snapshot_page(parse(R"({"results":[{"id":"x","complete":"yes"}]})")).error().message,
              "snapshot list: field 'results[0].complete' is not a boolean");
}

TEST(Json, HugeAndOddNumbersAreErrorsNotCrashes) {
    for (const char* number : {"1e308",
                               "-1e308",
                               "18446744073709551615",
                               "9223372036854775808",
                               "-9223372036854775808",
                               "0.5",
                               "-0",
                               "123456789012345678901234567890"}) {
        SCOPED_TRACE(number);
        const std::string body = std::string(R"({"results":[],"totalCount":)") + number + "}";
        boost::system::error_code ec;
        const json::value v = json::parse(body, ec);
        if (ec) {
            continue;
        }
        auto p = parse_snapshot_page(v);
        if (p) {
            // Only an integer that fits int64 and is not negative may be accepted.
            ASSERT_TRUE(p->total_count);
            EXPECT_GE(*p->total_count, 0);
        } else {
            EXPECT_EQ(p.error().code, errc::bad_response);
        }
    }
}

TEST(Json, AnyJsonValueIsSafe) {
    // Every kind of value in every field position must give a value or an error, never UB.
    const char* values[] = {"null", "true", "0", "-1", "1.5", "\"s\"", "[]", "{}", "[{}]", "[null]", "[[]]"};
    const char* fields[] = {"id", "delivery", "hashes", "links", "timestamp", "statusName", "created"};
    for (const char* field : fields) {
        for (const char* value : values) {
            const std::string body =
                std::string(R"({"id":"a","delivery":{"methodName":"HTTP"},")") + field + "\":" + value + "}";
            const json::value v = json::parse(body);
            (void)parse_restore_job(v);
            (void)parse_restore_job_page(json::parse(std::string(R"({"results":[)") + body + "]}"));
            (void)parse_snapshot(v);
            (void)parse_checkpoint(v);
            (void)parse_api_error(v);
        }
    }
    for (const char* value : values) {
        const json::value v = json::parse(value);
        EXPECT_FALSE(parse_restore_job(v));
        EXPECT_FALSE(parse_restore_job_page(v));
        EXPECT_FALSE(parse_api_error(v));
    }
}

TEST(Json, CreateRequestBodyUsesTheApiNames) {
    create_restore_job_request r;
    r.checkpoint_id = "32b6e34b3d91647abb20e7b8";
    r.oplog_inc = 42;
    r.oplog_ts = "2026-11-28T03:00:00Z";
    r.point_in_time_utc_millis = 1732770000000;
    r.snapshot_id = "5f1b2c3d4e5f6a7b8c9d0e1f";
    r.delivery.method_name = "AUTOMATED_RESTORE";
    r.delivery.expiration_hours = 4;
    r.delivery.max_downloads = 2;
    r.delivery.target_cluster_id = "aaaaaaaaaaaaaaaaaaaaaaaa";
    r.delivery.target_cluster_name = "drill";
    r.delivery.target_group_id = "bbbbbbbbbbbbbbbbbbbbbbbb";
    EXPECT_EQ(json::serialize(to_json(r)),
              R"({"checkpointId":"32b6e34b3d91647abb20e7b8",)"
              R"("delivery":{"expirationHours":4,"maxDownloads":2,"methodName":"AUTOMATED_RESTORE",)"
              R"("targetClusterId":"aaaaaaaaaaaaaaaaaaaaaaaa","targetClusterName":"drill",)"
              R"("targetGroupId":"bbbbbbbbbbbbbbbbbbbbbbbb"},)"
              R"("oplogInc":42,"oplogTs":"2026-11-28T03:00:00Z","pointInTimeUTCMillis":1732770000000,)"
              R"("snapshotId":"5f1b2c3d4e5f6a7b8c9d0e1f"})");

    create_restore_job_request minimal;
    minimal.snapshot_id = "5f1b2c3d4e5f6a7b8c9d0e1f";
    minimal.delivery.method_name = "HTTP";
    EXPECT_EQ(json::serialize(to_json(minimal)),
              R"({"delivery":{"methodName":"HTTP"},"snapshotId":"5f1b2c3d4e5f6a7b8c9d0e1f"})");

    auto back = parse_create_restore_job_request(to_json(r));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->oplog_inc, 42);
    EXPECT_EQ(back->point_in_time_utc_millis, 1732770000000);
    EXPECT_EQ(back->delivery.target_group_id, "bbbbbbbbbbbbbbbbbbbbbbbb");
    EXPECT_EQ(back->delivery.max_downloads, 2);
}

TEST(Json, WritersRoundTrip) {
    auto page = parse_restore_job_page(parse(restore_job_list));
    ASSERT_TRUE(page);
    const json::object written = to_json(*page);
    auto again = parse_restore_job_page(written);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(json::serialize(to_json(*again)), json::serialize(written));
    EXPECT_EQ(again->results[0].delivery_info.auth_value, "s3cr3t");
    EXPECT_EQ(again->results[0].hashes[0].hash, "a98af3c1f85a9eb3061423cda0fad8b4d0a48209");
    // Unset optionals are omitted, not null.
    const json::object second = to_json(page->results[1]);
    EXPECT_FALSE(second.contains("hashes"));
    EXPECT_FALSE(second.contains("timestamp"));
    EXPECT_FALSE(second.at("delivery").as_object().contains("urlV2"));

    snapshot s;
    s.id = "x";
    s.parts.push_back({});
    s.parts[0].file_size_bytes = 5368709120;
    auto s2 = parse_snapshot(to_json(s));
    ASSERT_TRUE(s2);
    EXPECT_EQ(s2->parts[0].file_size_bytes, 5368709120);
    EXPECT_FALSE(s2->complete);

    checkpoint c;
    c.id = "y";
    c.restorable = true;
    c.parts.push_back({});
    c.parts[0].token_timestamp = bson_timestamp{"2026-11-28T01:00:00Z", 3};
    auto c2 = parse_checkpoint(to_json(c));
    ASSERT_TRUE(c2);
    EXPECT_EQ(c2->parts[0].token_timestamp->increment, 3);

    api_error e{429, "RATE_LIMITED", "slow down", "Too Many Requests"};
    auto e2 = parse_api_error(to_json(e));
    ASSERT_TRUE(e2);
    EXPECT_EQ(e2->error_code, "RATE_LIMITED");
}

}  // namespace
}  // namespace atlas_restored::atlas
