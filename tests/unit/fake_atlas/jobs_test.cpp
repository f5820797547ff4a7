#include "fixture.hpp"

#include <gtest/gtest.h>

#include <set>

namespace atlas_restored::fake_atlas::testing {
namespace {

std::string str(const json::value& v) {
    return std::string(v.as_string());
}

TEST_F(world_test, create_on_a_sharded_cluster_returns_one_job_per_shard_and_config_sharing_a_batch) {
    const std::string snap = latest_snapshot(group_a, "orders");
    auto page = create(group_a, "orders", snap);
    const auto& results = page.at("results").as_array();
    ASSERT_EQ(results.size(), 3u);  // 2 shards + the config server
    EXPECT_EQ(page.at("totalCount"), 3);
    EXPECT_EQ(str(page.at("links").at(0).at("rel")), "self");
    std::set<std::string> batch_ids, cluster_ids, files;
    for (const auto& j : results) {
        batch_ids.insert(str(j.at("batchId")));
        cluster_ids.insert(str(j.at("clusterId")));
        EXPECT_EQ(str(j.at("snapshotId")), snap);
        EXPECT_EQ(str(j.at("statusName")), "IN_PROGRESS");
        EXPECT_EQ(str(j.at("delivery").at("statusName")), "NOT_STARTED");
        EXPECT_FALSE(j.as_object().contains("hashes"));
    }
    EXPECT_EQ(batch_ids.size(), 1u);
    EXPECT_EQ(cluster_ids.size(), 3u) << "each shard and the config server is its own replica set";
    EXPECT_EQ(w->counters().creates, 1u);
    EXPECT_EQ(w->counters().jobs_created, 3u);

    // File names follow Atlas's pattern.
    now += 5s;
    for (const auto& j : results) {
        auto job = get_job(group_a, "orders", str(j.at("id")));
        const std::string url = str(job.at("delivery").at("urlV2"));
        files.insert(url.substr(url.rfind('/') + 1));
    }
    const std::string id0 = str(results.at(0).at("id")), id1 = str(results.at(1).at("id")),
                      id2 = str(results.at(2).at("id"));
    EXPECT_EQ(files,
              (std::set<std::string>{"orders-shard-0-" + id0 + ".tar.gz",
                                     "orders-shard-1-" + id1 + ".tar.gz",
                                     "config-orders-config-0-" + id2 + ".tar.gz"}));

    // The batch lists with one call.
    auto r =
        api("GET", jobs_path(group_a, "orders") + "?batchId=" + *batch_ids.begin() + "&itemsPerPage=500");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(body_json(r).at("results").as_array().size(), 3u);
}

TEST_F(world_test, a_replica_set_create_gives_one_job_without_batch) {
    auto page = create(group_a, "users", latest_snapshot(group_a, "users"));
    ASSERT_EQ(page.at("results").as_array().size(), 1u);
    const auto& j = page.at("results").at(0).as_object();
    EXPECT_FALSE(j.contains("batchId"));
    now += 5s;
    auto job = get_job(group_a, "users", str(j.at("id")));
    const std::string url = str(job.at("delivery").at("urlV2"));
    EXPECT_EQ(url,
              "https://127.0.0.1:9999/backup/restore/v2/pull/" + str(j.at("id")) + "/users-" +
                  str(j.at("id")) + ".tar.gz");
}

TEST_F(world_test, jobs_follow_the_timeline_of_the_manual_clock) {
    const std::string snap = latest_snapshot(group_a, "users");
    const time_point created_at = now;
    auto page = create(group_a, "users", snap, 2, 4);
    const std::string id = str(page.at("results").at(0).at("id"));
    EXPECT_EQ(str(page.at("results").at(0).at("created")), "2026-11-28T03:00:00Z");

    now = created_at + 1500ms;
    auto j = get_job(group_a, "users", id);
    EXPECT_EQ(str(j.at("statusName")), "IN_PROGRESS");
    EXPECT_EQ(str(j.at("delivery").at("statusName")), "IN_PROGRESS");
    EXPECT_FALSE(j.at("delivery").as_object().contains("urlV2")) << "no link before the job finished";

    now = created_at + 3s;
    j = get_job(group_a, "users", id);
    EXPECT_EQ(str(j.at("statusName")), "FINISHED");
    const auto& d = j.at("delivery").as_object();
    EXPECT_EQ(str(d.at("statusName")), "READY");
    EXPECT_EQ(str(d.at("methodName")), "HTTP");
    EXPECT_EQ(str(d.at("authHeader")), "X-Atlas-Restore-Key");
    EXPECT_GE(d.at("authValue").as_string().size(), 40u);
    EXPECT_EQ(str(d.at("expires")), "2026-11-28T07:00:03Z") << "finished + expirationHours";
    EXPECT_EQ(d.at("maxDownloads"), 2);
    EXPECT_EQ(d.at("expirationHours"), 4);
    const std::string url = str(d.at("url"));
    EXPECT_NE(url.find("/backup/restore/v2/pull/" + id + "/" + str(d.at("authValue")) + "/"),
              std::string::npos);
    EXPECT_EQ(str(j.at("timestamp").at("date")), "2026-11-28T02:00:00Z") << "the snapshot's time";

    now = created_at + 3s + 4h;
    bearer_.clear();  // the service-account token lived an hour
    j = get_job(group_a, "users", id);
    EXPECT_EQ(str(j.at("delivery").at("statusName")), "EXPIRED");
}

TEST_F(world_test, link_ttl_overrides_expiration_hours) {
    auto o = default_options();
    o.link_ttl = std::chrono::seconds(60);
    make(o);
    auto job = ready_job();
    EXPECT_EQ(str(job.at("delivery").at("expires")), "2026-11-28T03:01:03Z");
    EXPECT_EQ(job.at("delivery").at("expirationHours"), 4) << "still the job's own value";
}

TEST_F(world_test, list_paginates_with_links_and_counts) {
    const std::string snap = latest_snapshot(group_a, "users");
    for (int i = 0; i < 5; ++i) {
        create(group_a, "users", snap);
    }
    auto r = api("GET", jobs_path(group_a, "users") + "?itemsPerPage=2&pageNum=2");
    ASSERT_EQ(r.status, 200) << r.body;
    auto page = body_json(r).as_object();
    EXPECT_EQ(page.at("results").as_array().size(), 2u);
    EXPECT_EQ(page.at("totalCount"), 5);
    const auto& links = page.at("links").as_array();
    ASSERT_EQ(links.size(), 3u);
    EXPECT_EQ(str(links[0].at("rel")), "self");
    EXPECT_EQ(str(links[1].at("rel")), "next");
    EXPECT_NE(str(links[1].at("href")).find("pageNum=3"), std::string::npos);
    EXPECT_EQ(str(links[2].at("rel")), "previous");

    r = api("GET", jobs_path(group_a, "users") + "?itemsPerPage=2&pageNum=3&includeCount=false");
    page = body_json(r).as_object();
    EXPECT_EQ(page.at("results").as_array().size(), 1u);
    EXPECT_FALSE(page.contains("totalCount"));
    EXPECT_EQ(page.at("links").as_array().size(), 2u) << "self and previous, no next";

    for (const char* bad :
         {"?itemsPerPage=501", "?itemsPerPage=0", "?pageNum=0", "?includeCount=yes", "?batchId=xyz"}) {
        r = api("GET", jobs_path(group_a, "users") + bad);
        EXPECT_EQ(r.status, 400) << bad;
        EXPECT_EQ(str(body_json(r).at("errorCode")), "INVALID_PARAMETER") << bad;
    }
}

TEST_F(world_test, snapshots_and_checkpoints) {
    const std::string base = "/api/atlas/v2/groups/" + std::string(group_a) + "/clusters/";
    auto r = api("GET", base + "orders/snapshots");
    ASSERT_EQ(r.status, 200);
    auto results = body_json(r).at("results").as_array();
    ASSERT_EQ(results.size(), 3u) << "completed only by default";
    for (const auto& s : results) {
        EXPECT_TRUE(s.at("complete").as_bool());
        ASSERT_EQ(s.at("parts").as_array().size(), 3u);
        for (const auto& p : s.at("parts").as_array()) {
            EXPECT_EQ(p.at("fileSizeBytes").to_number<std::uint64_t>(), 64u * 1024) << "the download size";
        }
    }
    EXPECT_GT(str(results[0].at("created").at("date")), str(results[1].at("created").at("date")))
        << "newest first";
    r = api("GET", base + "orders/snapshots?completed=all");
    EXPECT_EQ(body_json(r).at("results").as_array().size(), 4u);
    r = api("GET", base + "orders/snapshots?completed=false");
    EXPECT_FALSE(body_json(r).at("results").at(0).at("complete").as_bool());
    r = api("GET", base + "orders/snapshots?completed=maybe");
    EXPECT_EQ(r.status, 400);
    r = api("GET", base + "orders/snapshots/" + str(results[0].at("id")));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(body_json(r).at("id"), results[0].at("id"));

    r = api("GET", base + "users/snapshots");
    EXPECT_EQ(body_json(r).at("results").at(0).at("parts").as_array().size(), 1u);

    r = api("GET", base + "orders/backupCheckpoints");
    ASSERT_EQ(r.status, 200);
    auto checkpoints = body_json(r).at("results").as_array();
    ASSERT_EQ(checkpoints.size(), 2u);
    EXPECT_TRUE(checkpoints[0].at("restorable").as_bool());
    EXPECT_EQ(checkpoints[0].at("parts").as_array().size(), 3u);
    r = api("GET", base + "users/backupCheckpoints");
    EXPECT_EQ(body_json(r).at("results").as_array().size(), 0u);
}

struct bad_body {
    const char* json;
    const char* field;
};

TEST_F(world_test, the_create_body_is_validated_like_atlas) {
    const std::string snap = latest_snapshot(group_a, "orders");
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const std::string old_pit = std::to_string(now_ms - 25 * 3600 * 1000LL);
    const std::string cases[][2] = {
        {R"({"snapshotId":"SNAP"})", "delivery"},
        {R"({"snapshotId":"SNAP","delivery":{}})", "delivery.methodName"},
        {R"({"snapshotId":"SNAP","delivery":{"methodName":"FTP"}})", "delivery.methodName"},
        {R"({"snapshotId":"SNAP","delivery":{"methodName":"QUERY"}})", "delivery.methodName"},
        {R"({"snapshotId":"SNAP","delivery":{"methodName":"HTTP","maxDownloads":0}})",
         "delivery.maxDownloads"},
        {R"({"snapshotId":"SNAP","delivery":{"methodName":"HTTP","expirationHours":"4"}})",
         "delivery.expirationHours"},
        {R"({"snapshotId":"SNAP","delivery":{"methodName":"HTTP","colour":"red"}})", "delivery.colour"},
        {R"({"snapshotId":"abc","delivery":{"methodName":"HTTP"}})", "snapshotId"},
        {R"({"delivery":{"methodName":"HTTP"}})", "snapshotId"},
        {R"({"snapshotId":"SNAP","pointInTimeUTCMillis":1199145600000,"delivery":{"methodName":"HTTP"}})",
         "pointInTimeUTCMillis"},
        {R"({"checkpointId":"5f1b00000000000000000001","delivery":{"methodName":"HTTP"}})", "checkpointId"},
        {R"({"oplogTs":"2026-11-28T03:00:00Z","delivery":{"methodName":"HTTP"}})", "oplogInc"},
        {R"({"oplogInc":1,"delivery":{"methodName":"HTTP"}})", "oplogTs"},
        {R"({"oplogTs":"2026-02-29T03:00:00Z","oplogInc":1,"delivery":{"methodName":"HTTP"}})", "oplogTs"},
        {R"({"oplogTs":"2026-11-28T03:00:00Z","oplogInc":0,"delivery":{"methodName":"HTTP"}})", "oplogInc"},
        {R"({"pointInTimeUTCMillis":1000,"delivery":{"methodName":"HTTP"}})", "pointInTimeUTCMillis"},
        {R"({"pointInTimeUTCMillis":OLD,"delivery":{"methodName":"HTTP"}})", "pointInTimeUTCMillis"},
        {R"({"snapshotId":"SNAP","delivery":{"methodName":"AUTOMATED_RESTORE"}})", "delivery.targetGroupId"},
        {R"({"snapshotId":"SNAP","delivery":{"methodName":"HTTP","targetGroupId":"32b6e34b3d91647abb20e7b8"}})",
         "delivery.targetGroupId"},
        {R"({"snapshotId":"SNAP","delivery":{"methodName":"AUTOMATED_RESTORE","targetGroupId":"32b6e34b3d91647abb20e7b8","targetClusterName":"-x"}})",
         "delivery.targetClusterName"},
    };
    for (const auto& [text, field] : cases) {
        std::string body = text;
        for (auto [from, to] : {std::pair<std::string, std::string>{"SNAP", snap}, {"OLD", old_pit}}) {
            if (auto at = body.find(from); at != std::string::npos) {
                body.replace(at, from.size(), to);
            }
        }
        auto r = api("POST", jobs_path(group_a, "orders"), body);
        ASSERT_EQ(r.status, 400) << body << " -> " << r.body;
        auto e = body_json(r).as_object();
        EXPECT_EQ(str(e.at("errorCode")), "VALIDATION_ERROR") << body;
        EXPECT_EQ(e.at("error"), 400);
        EXPECT_EQ(str(e.at("reason")), "Bad Request");
        bool named = false;
        for (const auto& f : e.at("badRequestDetail").at("fields").as_array()) {
            named = named || str(f.at("field")) == field;
        }
        EXPECT_TRUE(named) << body << " should name " << field << ": " << r.body;
        EXPECT_EQ(*header_of(r, "Content-Type"), "application/json");
    }
    EXPECT_EQ(w->counters().creates, 0u) << "nothing was created";

    auto r = api("POST", jobs_path(group_a, "orders"), "{not json");
    EXPECT_EQ(r.status, 400);
    // A valid point in time and a valid oplog point are accepted.
    r = api("POST",
            jobs_path(group_a, "users"),
            R"({"pointInTimeUTCMillis":)" + std::to_string(now_ms - 3600 * 1000) +
                R"(,"delivery":{"methodName":"AUTOMATED_RESTORE","targetGroupId":")" + group_a +
                R"(","targetClusterName":"drill"}})");
    EXPECT_EQ(r.status, 200) << r.body;
    r = api(
        "POST",
        jobs_path(group_a, "users"),
        R"({"oplogTs":"2026-11-28T02:00:00.123+01:00","oplogInc":3,"delivery":{"methodName":"AUTOMATED_RESTORE","targetGroupId":")" +
            std::string(group_a) + R"(","targetClusterName":"drill"}})");
    EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(world_test, unknown_snapshots_groups_and_clusters_are_404) {
    auto r = api("POST",
                 jobs_path(group_a, "users"),
                 R"({"snapshotId":"5f1b00000000000000000001","delivery":{"methodName":"HTTP"}})");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(str(body_json(r).at("errorCode")), "RESOURCE_NOT_FOUND");
    r = api("GET", jobs_path(group_a, "nosuch"));
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(str(body_json(r).at("errorCode")), "CLUSTER_NOT_FOUND");
    r = api("GET", jobs_path("aaaaaaaaaaaaaaaaaaaaaaaa", "users"));
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(str(body_json(r).at("errorCode")), "RESOURCE_NOT_FOUND");
    r = api("GET", jobs_path("not-a-group", "users"));
    EXPECT_EQ(r.status, 400);
    r = api("GET", jobs_path(group_a, "users") + "/5f1b00000000000000000001");
    EXPECT_EQ(r.status, 404);
    r = api("DELETE", jobs_path(group_a, "users") + "/5f1b00000000000000000001");
    EXPECT_EQ(r.status, 405) << "legacy restore jobs cannot be cancelled";
    r = api("GET", "/api/atlas/v2/nothing");
    EXPECT_EQ(r.status, 404);
}

TEST_F(world_test, checkpoint_restores_need_automated_restore_on_a_sharded_cluster) {
    const std::string checkpoint = w->checkpoint_ids(group_a, "orders").at(0);
    const std::string target = R"(,"delivery":{"methodName":"AUTOMATED_RESTORE","targetGroupId":")" +
                               std::string(group_a) + R"(","targetClusterName":"drill"}})";
    auto r = api("POST", jobs_path(group_a, "orders"), R"({"checkpointId":")" + checkpoint + "\"" + target);
    ASSERT_EQ(r.status, 200) << r.body;
    auto results = body_json(r).at("results").as_array();
    EXPECT_EQ(results.size(), 3u);
    EXPECT_EQ(str(results[0].at("delivery").at("methodName")), "HTTP") << "automated restores report HTTP";
    EXPECT_EQ(str(results[0].at("delivery").at("targetClusterName")), "drill");
    now += 5s;
    auto j = get_job(group_a, "orders", str(results[0].at("id")));
    EXPECT_EQ(str(j.at("statusName")), "FINISHED");
    EXPECT_FALSE(j.at("delivery").as_object().contains("urlV2")) << "nothing to download";
    EXPECT_FALSE(j.at("delivery").as_object().contains("authValue"));

    r = api("POST", jobs_path(group_a, "users"), R"({"checkpointId":")" + checkpoint + "\"" + target);
    EXPECT_EQ(r.status, 400) << "replica sets have no checkpoints";
    // The target must exist.
    r = api("POST",
            jobs_path(group_a, "orders"),
            R"({"checkpointId":")" + checkpoint +
                R"(","delivery":{"methodName":"AUTOMATED_RESTORE","targetGroupId":")" + group_a +
                R"(","targetClusterName":"nosuch"}})");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(str(body_json(r).at("errorCode")), "CLUSTER_NOT_FOUND");
}

TEST_F(world_test, accept_and_content_type_must_name_the_version) {
    const std::string t = token();
    auto r = send("GET", jobs_path(group_a, "users"), {{"Authorization", "Bearer " + t}});
    EXPECT_EQ(r.status, 406);
    EXPECT_EQ(body_json(r).at("error"), 406);
    r = send("GET",
             jobs_path(group_a, "users"),
             {{"Authorization", "Bearer " + t}, {"Accept", "application/vnd.atlas.2025-02-19+json"}});
    EXPECT_EQ(r.status, 406);
    r = send("GET",
             jobs_path(group_a, "users"),
             {{"Authorization", "Bearer " + t}, {"Accept", "application/json"}});
    EXPECT_EQ(r.status, 406);
    r = send("GET",
             jobs_path(group_a, "users"),
             {{"Authorization", "Bearer " + t},
              {"Accept", "application/vnd.atlas.2023-01-01+json; charset=utf-8"}});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(*header_of(r, "Content-Type"), accept_v1);

    const std::string body =
        R"({"snapshotId":")" + latest_snapshot(group_a, "users") + R"(","delivery":{"methodName":"HTTP"}})";
    r = send("POST",
             jobs_path(group_a, "users"),
             {{"Authorization", "Bearer " + t}, {"Accept", accept_v1}, {"Content-Type", "application/json"}},
             body);
    EXPECT_EQ(r.status, 415);
    EXPECT_EQ(w->counters().creates, 0u);

    // With --api-version the other version is the accepted one.
    auto o = default_options();
    o.api_version = "2025-02-19";
    make(o);
    bearer_.clear();
    r = send("GET",
             jobs_path(group_a, "users"),
             {{"Authorization", "Bearer " + token()}, {"Accept", "application/vnd.atlas.2025-02-19+json"}});
    EXPECT_EQ(r.status, 200);
}

TEST_F(world_test, envelope_and_pretty) {
    const std::string snap = latest_snapshot(group_a, "users");
    auto page = create(group_a, "users", snap);
    const std::string id = str(page.at("results").at(0).at("id"));

    auto r = api("GET", jobs_path(group_a, "users") + "?envelope=true");
    ASSERT_EQ(r.status, 200);
    auto list = body_json(r).as_object();
    EXPECT_EQ(list.at("status"), 200) << "lists get the status at the top level";
    EXPECT_TRUE(list.contains("results"));

    r = api("GET", jobs_path(group_a, "users") + "/" + id + "?envelope=true");
    auto one = body_json(r).as_object();
    EXPECT_EQ(one.at("status"), 200);
    EXPECT_EQ(str(one.at("content").at("id")), id);

    r = api("GET", jobs_path(group_a, "users") + "/5f1b00000000000000000001?envelope=true");
    EXPECT_EQ(r.status, 200) << "an enveloped error answers 200";
    auto err = body_json(r).as_object();
    EXPECT_EQ(err.at("status"), 404);
    EXPECT_EQ(str(err.at("content").at("errorCode")), "RESOURCE_NOT_FOUND");

    r = api("GET", jobs_path(group_a, "users") + "/" + id + "?pretty=true");
    EXPECT_NE(r.body.find("\n  \"id\" : "), std::string::npos) << r.body;
    EXPECT_EQ(str(body_json(r).at("id")), id);
    r = api("GET", jobs_path(group_a, "users") + "/" + id);
    EXPECT_EQ(r.body.find('\n'), std::string::npos);
}

TEST_F(world_test, organisations_only_see_their_own_groups) {
    const std::string t_default = token("mdb_sa_id_1", "sa-secret-1");
    const std::string t_payments = token("mdb_sa_id_2", "sa-secret-2");
    auto r = send("GET", jobs_path(group_b, "payments"), api_headers(t_default));
    EXPECT_EQ(r.status, 401);
    EXPECT_FALSE(header_of(r, "WWW-Authenticate")) << "not a challenge: the credential is valid elsewhere";
    r = send("GET", jobs_path(group_b, "payments"), api_headers(t_payments));
    EXPECT_EQ(r.status, 200);
    r = send("GET", jobs_path(group_a, "users"), api_headers(t_payments));
    EXPECT_EQ(r.status, 401);
    // An automated restore cannot target another organisation's cluster.
    r = send("POST",
             jobs_path(group_a, "users"),
             api_headers(t_default),
             R"({"snapshotId":")" + latest_snapshot(group_a, "users") +
                 R"(","delivery":{"methodName":"AUTOMATED_RESTORE","targetGroupId":")" + group_b +
                 R"(","targetClusterName":"payments"}})");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(w->counters().jobs_created, 0u);
}

}  // namespace
}  // namespace atlas_restored::fake_atlas::testing
