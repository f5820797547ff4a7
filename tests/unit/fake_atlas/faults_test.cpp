#include "fake_atlas/faults.hpp"

#include "fixture.hpp"

#include <gtest/gtest.h>

namespace atlas_restored::fake_atlas::testing {
namespace {

std::string str(const json::value& v) {
    return std::string(v.as_string());
}

TEST(faults, parse_with_defaults_and_errors) {
    auto f =
        parse_faults(R"({"kind":"status","status":503,"count":3,"match":"GET /api/atlas/v2/…restoreJobs"})");
    ASSERT_TRUE(f) << f.error().message;
    ASSERT_EQ(f->size(), 1u);
    EXPECT_EQ(f->at(0).kind, fault_kind::status);
    EXPECT_EQ(f->at(0).count, 3);
    EXPECT_EQ(f->at(0).match, "GET /api/atlas/v2/*restoreJobs") << "the ellipsis is a wildcard";

    auto list = parse_faults(
        R"([{"kind":"rate_limit"},{"kind":"stall","delay_ms":250},{"kind":"truncate","bytes":10}])");
    ASSERT_TRUE(list);
    EXPECT_EQ(list->at(0).status, 429);
    EXPECT_EQ(list->at(0).retry_after, 1);
    EXPECT_EQ(list->at(1).delay, std::chrono::milliseconds(250));
    EXPECT_EQ(list->at(2).bytes, 10u);

    for (const char* bad : {R"({"kind":"explode"})",
                            R"({"count":1})",
                            R"({"kind":"status","count":0})",
                            R"({"kind":"status","status":700})",
                            R"({"kind":"stall"})",
                            R"({"kind":"status","colour":"red"})",
                            R"({"kind":"status","count":"2"})",
                            "not json"}) {
        EXPECT_FALSE(parse_faults(bad)) << bad;
    }
}

TEST(faults, matching) {
    fault_spec f;
    f.kind = fault_kind::status;
    EXPECT_TRUE(fault_matches(f, "GET", "/anything")) << "no match: every request";
    f.match = "POST /api/atlas/v2/groups/*/restoreJobs";
    EXPECT_TRUE(fault_matches(f, "POST", "/api/atlas/v2/groups/g/clusters/c/restoreJobs"));
    EXPECT_FALSE(fault_matches(f, "GET", "/api/atlas/v2/groups/g/clusters/c/restoreJobs"));
    EXPECT_FALSE(fault_matches(f, "POST", "/api/atlas/v2/groups/g/clusters/c/restoreJobs/x"));
    f.match = "* /backup/*";
    EXPECT_TRUE(fault_matches(f, "GET", "/backup/restore/v2/pull/a/b"));
    f.match = "/api/oauth/token";
    EXPECT_TRUE(fault_matches(f, "POST", "/api/oauth/token"));
    fault_spec d;
    d.kind = fault_kind::truncate;
    EXPECT_TRUE(fault_matches(d, "GET", "/backup/restore/v2/pull/a/b"));
    EXPECT_FALSE(fault_matches(d, "GET", "/api/atlas/v2/groups/g/clusters/c/restoreJobs"));
    EXPECT_TRUE(glob_match("a*b*c", "aXXbYYc"));
    EXPECT_FALSE(glob_match("a*b*c", "aXXbYY"));
}

class fault_test : public world_test {
  protected:
    void inject(const std::string& json_text) {
        auto r = send("POST", "/_fake/faults", {}, json_text);
        ASSERT_EQ(r.status, 200) << r.body;
    }
    std::string snapshot() { return latest_snapshot(group_a, "users"); }
    std::string create_body() {
        return R"({"snapshotId":")" + snapshot() + R"(","delivery":{"methodName":"HTTP"}})";
    }
};

TEST_F(fault_test, status_bursts_then_normal_service) {
    const std::string list = jobs_path(group_a, "users");
    api("GET", list);  // token fetched before the faults
    inject(R"({"kind":"status","status":503,"count":2,"match":"GET */restoreJobs","retry_after":5})");
    for (int i = 0; i < 2; ++i) {
        auto r = api("GET", list);
        EXPECT_EQ(r.status, 503);
        EXPECT_EQ(*header_of(r, "Retry-After"), "5");
        EXPECT_EQ(str(body_json(r).at("errorCode")), "SERVICE_UNAVAILABLE");
    }
    EXPECT_EQ(api("GET", list).status, 200);
    inject(R"({"kind":"status","status":500,"match":"POST */restoreJobs"})");
    auto r = api("POST", list, create_body());
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(w->counters().creates, 0u) << "a 5xx fault does not process the request";
    // With process=true the request takes effect and the answer is still an error.
    inject(R"({"kind":"status","status":504,"match":"POST */restoreJobs","process":true})");
    r = api("POST", list, create_body());
    EXPECT_EQ(r.status, 504);
    EXPECT_EQ(w->counters().creates, 1u);
    EXPECT_EQ(w->counters().faults_applied, 4u);
}

TEST_F(fault_test, injected_429_has_retry_after_and_atlas_body) {
    api("GET", jobs_path(group_a, "users"));
    inject(R"({"kind":"rate_limit","retry_after":7})");
    auto r = api("GET", jobs_path(group_a, "users"));
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(*header_of(r, "Retry-After"), "7");
    auto e = body_json(r).as_object();
    EXPECT_EQ(e.at("error"), 429);
    EXPECT_EQ(str(e.at("errorCode")), "RATE_LIMITED_TOKEN_BUCKET");
    // The old limiter's 400 form.
    inject(R"({"kind":"status","status":400,"error_code":"RATE_LIMITED"})");
    r = api("GET", jobs_path(group_a, "users"));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(str(body_json(r).at("errorCode")), "RATE_LIMITED");
}

TEST_F(fault_test, stall_reset_and_close) {
    api("GET", jobs_path(group_a, "users"));
    inject(R"({"kind":"stall","delay_ms":1500})");
    auto r = api("GET", jobs_path(group_a, "users"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.delay, std::chrono::milliseconds(1500));

    inject(R"({"kind":"reset","match":"POST *"})");
    r = api("POST", jobs_path(group_a, "users"), create_body());
    EXPECT_EQ(r.inject, http::fault::reset);
    EXPECT_EQ(w->counters().creates, 0u);

    inject(R"({"kind":"close"})");
    r = api("GET", jobs_path(group_a, "users"));
    EXPECT_EQ(r.inject, http::fault::close_without_reply);
}

TEST_F(fault_test, ambiguous_create_creates_the_jobs_then_drops_the_connection) {
    api("GET", jobs_path(group_a, "orders"));
    inject(R"({"kind":"ambiguous_create"})");
    auto r = api(
        "POST",
        jobs_path(group_a, "orders"),
        R"({"snapshotId":")" + latest_snapshot(group_a, "orders") + R"(","delivery":{"methodName":"HTTP"}})");
    EXPECT_EQ(r.inject, http::fault::close_without_reply);
    EXPECT_EQ(w->counters().creates, 1u);
    EXPECT_EQ(w->counters().jobs_created, 3u);
    // The client reconciles by listing: the batch is there.
    r = api("GET", jobs_path(group_a, "orders"));
    EXPECT_EQ(body_json(r).at("totalCount"), 3);
    auto log = w->request_log_json(0);
    bool logged = false;
    for (const auto& e : log.at("requests").as_array()) {
        if (e.at("method") == "POST") {
            logged = e.at("status").is_null() && e.at("fault") == "ambiguous_create";
        }
    }
    EXPECT_TRUE(logged);
}

TEST_F(fault_test, truncated_download_counts_but_records_no_hash) {
    auto job = ready_job(3);
    inject(R"({"kind":"truncate","bytes":1000})");
    auto r = download(job);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.inject, http::fault::truncate_body);
    EXPECT_EQ(r.truncate_after, 1000u);
    EXPECT_EQ(r.content_length, 64u * 1024) << "the full length is announced";
    EXPECT_EQ(drain(r).size(), 1000u);
    EXPECT_FALSE(get_job(group_a, "users", str(job.at("id"))).contains("hashes"));
    EXPECT_EQ(w->jobs().at(str(job.at("id"))).downloads_used, 1);
    EXPECT_EQ(w->counters().downloads_completed, 0u);
}

TEST_F(fault_test, wrong_hash_on_one_download_then_right_again) {
    auto job = ready_job(3);
    const std::string id = str(job.at("id"));
    inject(R"({"kind":"wrong_hash"})");
    const std::string bytes = drain(download(job));
    auto after = get_job(group_a, "users", id);
    ASSERT_TRUE(after.contains("hashes"));
    EXPECT_NE(str(after.at("hashes").at(0).at("hash")), test_sha1(bytes));
    EXPECT_EQ(after.at("hashes").at(0).at("hash").as_string().size(), 40u);
    drain(download(job));
    EXPECT_EQ(str(get_job(group_a, "users", id).at("hashes").at(0).at("hash")), test_sha1(bytes));
    // Given a job_id, every download of the job reports a wrong hash.
    inject(R"({"kind":"wrong_hash","job_id":")" + id + R"("})");
    EXPECT_NE(str(get_job(group_a, "users", id).at("hashes").at(0).at("hash")), test_sha1(bytes));
    drain(download(job));
    EXPECT_NE(str(get_job(group_a, "users", id).at("hashes").at(0).at("hash")), test_sha1(bytes));
}

TEST_F(fault_test, job_and_delivery_fates) {
    struct fate {
        const char* kind;
        const char* status;
        const char* delivery;
    };
    for (auto [kind, status, delivery] : {fate{"job_broken", "BROKEN", "FAILED"},
                                          fate{"job_killed", "KILLED", "INTERRUPTED"},
                                          fate{"delivery_failed", "FINISHED", "FAILED"},
                                          fate{"delivery_interrupted", "FINISHED", "INTERRUPTED"}}) {
        inject(std::string(R"({"kind":")") + kind + R"("})");
        auto page = create(group_a, "users", snapshot());
        const std::string id = str(page.at("results").at(0).at("id"));
        EXPECT_EQ(str(page.at("results").at(0).at("statusName")), "IN_PROGRESS")
            << "the fate plays out on time";
        now += 5s;
        auto j = get_job(group_a, "users", id);
        EXPECT_EQ(str(j.at("statusName")), status) << kind;
        EXPECT_EQ(str(j.at("delivery").at("statusName")), delivery) << kind;
        EXPECT_FALSE(j.at("delivery").as_object().contains("urlV2")) << kind;
    }
}

TEST_F(fault_test, a_fate_for_one_job_of_a_batch_and_for_a_job_by_id) {
    inject(R"({"kind":"job_broken","index":1})");
    auto page = create(group_a, "orders", latest_snapshot(group_a, "orders"));
    now += 5s;
    std::vector<std::string> statuses;
    for (const auto& j : page.at("results").as_array()) {
        statuses.push_back(str(get_job(group_a, "orders", str(j.at("id"))).at("statusName")));
    }
    EXPECT_EQ(statuses, (std::vector<std::string>{"FINISHED", "BROKEN", "FINISHED"}));

    // By id, on a job still running: it ends now.
    auto other = create(group_a, "users", snapshot());
    const std::string id = str(other.at("results").at(0).at("id"));
    inject(R"({"kind":"job_killed","job_id":")" + id + R"("})");
    EXPECT_EQ(str(get_job(group_a, "users", id).at("statusName")), "KILLED");
    auto r =
        send("POST", "/_fake/faults", {}, R"({"kind":"job_killed","job_id":"5f1b00000000000000000001"})");
    EXPECT_EQ(r.status, 404);
}

TEST_F(fault_test, link_expiry_now) {
    auto job = ready_job(5);
    inject(R"({"kind":"expire_link"})");
    auto r = download(job);
    EXPECT_EQ(r.status, 410) << "the link expired as the download started";
    EXPECT_EQ(str(get_job(group_a, "users", str(job.at("id"))).at("delivery").at("statusName")), "EXPIRED");

    auto job2 = ready_job(5);
    inject(R"({"kind":"expire_link","job_id":")" + str(job2.at("id")) + R"("})");
    EXPECT_EQ(str(get_job(group_a, "users", str(job2.at("id"))).at("delivery").at("statusName")), "EXPIRED");
    EXPECT_EQ(download(job2).status, 410);
}

TEST_F(fault_test, faults_from_the_options_and_the_control_listing) {
    auto o = default_options();
    o.faults = *parse_faults(R"({"kind":"status","status":502,"count":2,"match":"POST /api/oauth/token"})");
    make(o);
    auto r = send("GET", "/_fake/faults");
    auto listed = body_json(r).at("faults").as_array();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].at("remaining"), 2);
    auto t = send("POST", "/api/oauth/token");
    EXPECT_EQ(t.status, 502);
    r = send("DELETE", "/_fake/faults");
    EXPECT_EQ(body_json(r).at("cleared"), 1);
    token();  // works again
    r = send("POST", "/_fake/faults", {}, R"({"kind":"nope"})");
    EXPECT_EQ(r.status, 400);
}

}  // namespace
}  // namespace atlas_restored::fake_atlas::testing
