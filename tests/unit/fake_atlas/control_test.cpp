#include "fixture.hpp"

#include <gtest/gtest.h>

namespace atlas_restored::fake_atlas::testing {
namespace {

std::string str(const json::value& v) {
    return std::string(v.as_string());
}

TEST_F(world_test, counters_count_routes_connections_creates_and_downloads) {
    const std::string t = token();
    send("GET", jobs_path(group_a, "users"), api_headers(t), {}, 1);
    send("GET", jobs_path(group_a, "users"), api_headers(t), {}, 1);
    send("GET", jobs_path(group_a, "users"), {{"Accept", accept_v1}}, {}, 2);  // challenged
    auto r = send("GET", "/_fake/counters");
    ASSERT_EQ(r.status, 200);
    auto c = body_json(r).as_object();
    EXPECT_EQ(c.at("requests_total"), 4);
    const std::string list_route = "GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/restoreJobs";
    EXPECT_EQ(c.at("requests").at(list_route), 3);
    EXPECT_EQ(c.at("requests").at("POST /api/oauth/token"), 1);
    EXPECT_EQ(c.at("responses").at("200"), 3);
    EXPECT_EQ(c.at("responses").at("401"), 1);
    EXPECT_EQ(c.at("challenges_401"), 1);
    EXPECT_EQ(c.at("token_requests"), 1);
    EXPECT_EQ(c.at("tls_connections"), 2);
    EXPECT_EQ(c.at("requests_per_connection").at("1"), 3);
    EXPECT_EQ(c.at("max_requests_per_connection"), 3);
    for (const char* key : {"creates",
                            "jobs_created",
                            "downloads_started",
                            "downloads_completed",
                            "download_bytes",
                            "range_requests",
                            "rate_limited_429",
                            "auth_failures",
                            "faults_applied"}) {
        EXPECT_EQ(c.at(key), 0) << key;
    }

    r = send("POST", "/_fake/reset-counters");
    EXPECT_EQ(r.status, 200);
    c = body_json(send("GET", "/_fake/counters")).as_object();
    EXPECT_EQ(c.at("requests_total"), 0) << "control calls are not counted";
    EXPECT_EQ(c.at("tls_connections"), 0);
    EXPECT_EQ(body_json(send("GET", "/_fake/requests")).at("requests").as_array().size(), 0u);
}

TEST_F(world_test, the_request_log_redacts_every_secret) {
    auto job = ready_job();
    const auto& d = job.at("delivery").as_object();
    download(job);
    const std::string url = str(d.at("url"));
    send("GET", url.substr(url.find("/backup/")) + "?x=1");
    auto r = send("GET", "/_fake/requests?pretty=true");
    ASSERT_EQ(r.status, 200);
    const std::string text = r.body;
    EXPECT_EQ(text.find(str(d.at("authValue"))), std::string::npos) << "no download key";
    EXPECT_EQ(text.find(bearer_), std::string::npos) << "no bearer token";
    EXPECT_EQ(text.find(test_base64("mdb_sa_id_1:sa-secret-1")), std::string::npos) << "no basic credentials";
    auto entries = body_json(r).at("requests").as_array();
    ASSERT_GE(entries.size(), 4u);
    const auto& token_call = entries[1].as_object();  // [0] fetched the token, [1] listed snapshots with it
    EXPECT_EQ(str(entries[0].at("method")), "POST");
    EXPECT_EQ(str(entries[0].at("headers").at("Authorization")), "Basic REDACTED");
    EXPECT_EQ(str(token_call.at("headers").at("Authorization")), "Bearer REDACTED");
    EXPECT_EQ(str(token_call.at("auth")), "bearer");
    const auto& v2 = entries[entries.size() - 2].as_object();
    EXPECT_EQ(str(v2.at("headers").at("X-Atlas-Restore-Key")), "REDACTED");
    EXPECT_EQ(v2.at("status"), 200);
    const auto& v1 = entries.back().as_object();
    EXPECT_NE(str(v1.at("target")).find("/REDACTED/users-"), std::string::npos);
    EXPECT_NE(str(v1.at("target")).find("?x=1"), std::string::npos);
    EXPECT_EQ(v1.at("connection_id"), 1);

    // `since` returns only newer entries.
    const auto last = body_json(r).at("last_seq").to_number<std::uint64_t>();
    send("GET", "/api/oauth/nothing");
    auto newer =
        body_json(send("GET", "/_fake/requests?since=" + std::to_string(last))).at("requests").as_array();
    ASSERT_EQ(newer.size(), 1u);
    EXPECT_EQ(str(newer[0].at("target")), "/api/oauth/nothing");
    EXPECT_EQ(newer[0].at("status"), 404);
}

TEST_F(world_test, the_request_log_is_bounded) {
    auto o = default_options();
    o.request_log_limit = 3;
    make(o);
    for (int i = 0; i < 5; ++i) {
        send("GET", "/nothing/" + std::to_string(i));
    }
    auto entries = body_json(send("GET", "/_fake/requests")).at("requests").as_array();
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(str(entries[0].at("target")), "/nothing/2");
}

TEST_F(world_test, advance_moves_the_fake_clock_forward) {
    auto created = create(group_a, "users", latest_snapshot(group_a, "users"));
    const std::string id = str(created.at("results").at(0).at("id"));
    auto r = send("POST", "/_fake/advance", {}, R"({"seconds": 10})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(body_json(r).at("offset_seconds").to_number<double>(), 10.0);
    EXPECT_EQ(str(get_job(group_a, "users", id).at("statusName")), "FINISHED");
    EXPECT_EQ(send("POST", "/_fake/advance", {}, R"({"seconds": -1})").status, 400);
    EXPECT_EQ(send("POST", "/_fake/advance", {}, "x").status, 400);
}

TEST_F(world_test, the_jobs_view_shows_internal_state_without_secrets) {
    auto job = ready_job();
    download(job);
    auto r = send("GET", "/_fake/jobs");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body.find(str(job.at("delivery").at("authValue"))), std::string::npos);
    auto jobs = body_json(r).at("jobs").as_array();
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].at("_fake").at("downloads_used"), 1);
    EXPECT_EQ(str(jobs[0].at("delivery").at("authValue")), "REDACTED");
    EXPECT_EQ(send("GET", "/_fake/nothing").status, 404);
    EXPECT_EQ(send("GET", "/_fake/health").status, 200);
}

TEST_F(world_test, without_auth_when_configured) {
    auto o = default_options();
    o.api_keys.clear();
    o.service_accounts.clear();
    o.no_auth = true;
    make(o);
    auto r = send("GET", jobs_path(group_b, "payments"), {{"Accept", accept_v1}});
    EXPECT_EQ(r.status, 200) << r.body;
}

}  // namespace
}  // namespace atlas_restored::fake_atlas::testing
