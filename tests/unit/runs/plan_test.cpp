#include "runs/plan.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

namespace atlas_restored::runs {
namespace {

using namespace std::chrono_literals;

const sys_time now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 28} + 3h;
constexpr const char* group = "32b6e34b3d91647abb20e7b8";
constexpr const char* snap_old = "5f1b00000000000000000001";
constexpr const char* snap_new = "5f1b00000000000000000002";
constexpr const char* snap_incomplete = "5f1b00000000000000000003";

atlas::snapshot snap(std::string id, sys_time created, bool complete, std::vector<std::int64_t> parts) {
    atlas::snapshot s;
    s.id = std::move(id);
    s.complete = complete;
    s.created = atlas::bson_timestamp{format_iso8601(created), 1};
    for (auto bytes : parts) {
        atlas::snapshot_part p;
        p.file_size_bytes = bytes;
        s.parts.push_back(p);
    }
    return s;
}

std::vector<atlas::snapshot> snapshots() {
    return {snap(snap_old, now - 30h, true, {100}),
            snap(snap_new, now - 2h, true, {1000, 2000, 300}),
            snap(snap_incomplete, now - 1h, false, {5})};
}

config::policy http_policy() {
    config::policy p;
    p.name = "orders";
    p.group_id = group;
    p.cluster = "orders";
    p.delivery.method = "HTTP";
    p.delivery.expiration_hours = 4;
    p.delivery.max_downloads = 2;
    return p;
}

TEST(plan_submission, latest_snapshot_is_resolved_at_run_time) {
    auto plan = plan_submission(http_policy(), snapshots(), now);
    ASSERT_TRUE(plan) << plan.error().message;
    EXPECT_EQ(plan->request.snapshot_id, std::optional<std::string>(snap_new));
    EXPECT_EQ(plan->snapshot_id, std::optional<std::string>(snap_new));
    EXPECT_EQ(parse_iso8601(plan->snapshot_time.value()), now - 2h);
    EXPECT_EQ(plan->expected_bytes, 3300u);
    EXPECT_EQ(plan->request.delivery.method_name, "HTTP");
    EXPECT_EQ(plan->request.delivery.max_downloads, 2);
    EXPECT_EQ(boost::json::parse(plan->restore_point_json),
              boost::json::parse(std::string(R"({"snapshotId":")") + snap_new + "\"}"));
}

TEST(plan_submission, latest_snapshot_without_a_completed_one_is_refused) {
    auto plan = plan_submission(http_policy(), {snap(snap_incomplete, now - 1h, false, {5})}, now);
    ASSERT_FALSE(plan);
    EXPECT_NE(plan.error().message.find("no completed snapshot"), std::string::npos) << plan.error().message;
}

TEST(plan_submission, a_fixed_snapshot_must_be_among_the_completed_ones) {
    auto p = http_policy();
    p.point.kind = config::restore_point_kind::snapshot_id;
    p.point.snapshot_id = snap_old;
    auto plan = plan_submission(p, snapshots(), now);
    ASSERT_TRUE(plan) << plan.error().message;
    EXPECT_EQ(plan->request.snapshot_id, std::optional<std::string>(snap_old));
    EXPECT_EQ(parse_iso8601(plan->snapshot_time.value()), now - 30h);
    EXPECT_EQ(plan->expected_bytes, 100u);

    p.point.snapshot_id = snap_incomplete;
    EXPECT_FALSE(plan_submission(p, snapshots(), now));
    p.point.snapshot_id = "5f1b0000000000000000dead";
    auto missing = plan_submission(p, snapshots(), now);
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("5f1b0000000000000000dead"), std::string::npos);
}

TEST(plan_submission, a_point_in_time_must_lie_in_the_last_24_hours_at_run_time) {
    auto p = http_policy();
    p.delivery.method = "CLIENT_PIT_HTTP";
    p.point.kind = config::restore_point_kind::point_in_time;
    p.point.point_in_time_utc_millis = to_unix_millis(now - 23h);
    auto plan = plan_submission(p, snapshots(), now);
    ASSERT_TRUE(plan) << plan.error().message;
    EXPECT_EQ(plan->request.point_in_time_utc_millis, to_unix_millis(now - 23h));
    EXPECT_FALSE(plan->request.snapshot_id);
    EXPECT_EQ(parse_iso8601(plan->snapshot_time.value()), now - 23h);
    EXPECT_EQ(plan->expected_bytes, 3300u);  // estimated from the newest snapshot

    // Valid when the policy was loaded, too old when the run starts a day later.
    auto late = plan_submission(p, snapshots(), now + 2h);  // the same policy, a run 2 h later
    ASSERT_FALSE(late);
    EXPECT_NE(late.error().message.find("24 hours"), std::string::npos) << late.error().message;
}

TEST(plan_submission, oplog_and_checkpoint_points) {
    auto p = http_policy();
    p.delivery.method = "CLIENT_PIT_HTTP";
    p.point.kind = config::restore_point_kind::oplog;
    p.point.oplog_ts = "2026-11-28T01:00:00Z";
    p.point.oplog_inc = 3;
    auto plan = plan_submission(p, snapshots(), now);
    ASSERT_TRUE(plan) << plan.error().message;
    EXPECT_EQ(plan->request.oplog_ts, std::optional<std::string>("2026-11-28T01:00:00Z"));
    EXPECT_EQ(plan->request.oplog_inc, 3);
    EXPECT_EQ(parse_iso8601(plan->snapshot_time.value()), now - 2h);

    config::policy a = http_policy();
    a.delivery = {};
    a.delivery.method = "AUTOMATED_RESTORE";
    a.delivery.target_group_id = group;
    a.delivery.target_cluster_name = "drill";
    a.delivery.confirm_overwrite = "drill";
    a.point.kind = config::restore_point_kind::checkpoint_id;
    a.point.checkpoint_id = "5f1b000000000000000000cc";
    auto cp = plan_submission(a, snapshots(), now);
    ASSERT_TRUE(cp) << cp.error().message;
    EXPECT_EQ(cp->request.checkpoint_id, std::optional<std::string>("5f1b000000000000000000cc"));
    EXPECT_FALSE(cp->snapshot_time);
}

TEST(plan_submission, automated_restore_must_confirm_the_target_by_name) {
    config::policy a = http_policy();
    a.delivery = {};
    a.delivery.method = "AUTOMATED_RESTORE";
    a.delivery.target_group_id = group;
    a.delivery.target_cluster_name = "drill";
    a.delivery.confirm_overwrite = "drill";
    auto ok = plan_submission(a, snapshots(), now);
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->request.delivery.target_cluster_name, std::optional<std::string>("drill"));

    a.delivery.confirm_overwrite = "orders";
    auto wrong = plan_submission(a, snapshots(), now);
    ASSERT_FALSE(wrong);
    EXPECT_NE(wrong.error().message.find("confirm_overwrite"), std::string::npos);

    a.delivery.target_cluster_name.reset();
    a.delivery.target_cluster_id = "5f1b0000000000000000c1d0";
    a.delivery.confirm_overwrite = "drill";
    auto by_id = plan_submission(a, snapshots(), now);
    ASSERT_FALSE(by_id);
    EXPECT_NE(by_id.error().message.find("target_cluster_name"), std::string::npos) << by_id.error().message;
}

TEST(plan_submission, the_seed_rules_apply_at_run_time) {
    auto pit = http_policy();
    pit.point.kind = config::restore_point_kind::point_in_time;
    pit.point.point_in_time_utc_millis = to_unix_millis(now - 1h);
    auto http_pit = plan_submission(pit, snapshots(), now);
    ASSERT_FALSE(http_pit);
    EXPECT_NE(http_pit.error().message.find("pointInTimeUTCMillis"), std::string::npos);
    auto p = http_policy();
    p.group_id = "not-hex";
    auto bad = plan_submission(p, snapshots(), now);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("groupId"), std::string::npos) << bad.error().message;
}

TEST(plan_submission, a_part_larger_than_max_file_bytes_is_refused_for_downloads) {
    auto p = http_policy();
    p.download.max_file_bytes = 1500;
    auto plan = plan_submission(p, snapshots(), now);
    ASSERT_FALSE(plan);
    EXPECT_NE(plan.error().message.find("max_file_bytes"), std::string::npos);
}

TEST(free_space, needs_the_bytes_and_a_margin) {
    constexpr std::uint64_t mib = 1 << 20;
    EXPECT_EQ(free_space_problem(100 * mib, 164 * mib, "/d"), std::nullopt);
    EXPECT_NE(free_space_problem(100 * mib, 163 * mib, "/d"), std::nullopt);
    EXPECT_NE(free_space_problem(100 * mib, 50 * mib, "/d"), std::nullopt);
    // 1 % of 100 GiB is more than 64 MiB.
    const std::uint64_t big = 100ull << 30;
    EXPECT_NE(free_space_problem(big, big + 100 * mib, "/d"), std::nullopt);
    EXPECT_EQ(free_space_problem(big, big + big / 100, "/d"), std::nullopt);
    EXPECT_NE(free_space_problem(1, 0, "/d")->find("/d has 0 bytes free"), std::string::npos);
}

TEST(request_body, round_trips_through_the_intent_text) {
    auto plan = plan_submission(http_policy(), snapshots(), now);
    ASSERT_TRUE(plan);
    auto text = request_body_json(plan->request);
    auto back = parse_request_body_json(text);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->snapshot_id, plan->request.snapshot_id);
    EXPECT_EQ(back->delivery.method_name, "HTTP");
    EXPECT_EQ(back->delivery.expiration_hours, 4);
    EXPECT_FALSE(parse_request_body_json("{not json"));
}

TEST(newest_complete_snapshot, ignores_incomplete_and_undated_ones) {
    auto list = snapshots();
    EXPECT_EQ(newest_complete_snapshot(list)->id, snap_new);
    list[1].created.reset();
    EXPECT_EQ(newest_complete_snapshot(list)->id, snap_old);
    EXPECT_EQ(newest_complete_snapshot({}), nullptr);
}

}  // namespace
}  // namespace atlas_restored::runs

namespace atlas_restored::runs {
namespace {

atlas::restore_job listed_job(std::string id,
                              std::string snapshot,
                              sys_time created,
                              std::optional<std::string> batch = std::nullopt,
                              std::string method = "HTTP") {
    atlas::restore_job j;
    j.id = std::move(id);
    j.snapshot_id = std::move(snapshot);
    j.created = format_iso8601(created);
    j.batch_id = std::move(batch);
    j.delivery_info.method_name = std::move(method);
    j.status_name = "IN_PROGRESS";
    return j;
}

atlas::create_restore_job_request http_request(std::string snapshot) {
    atlas::create_restore_job_request r;
    r.snapshot_id = std::move(snapshot);
    r.delivery.method_name = "HTTP";
    return r;
}

std::vector<std::string> ids(const std::vector<atlas::restore_job>& jobs) {
    std::vector<std::string> out;
    for (const auto& j : jobs) {
        out.push_back(j.id);
    }
    return out;
}

const auto nobody_owns = [](const std::string&) { return false; };

TEST(pick_created_jobs, only_matching_jobs_created_after_the_intent) {
    const std::vector<atlas::restore_job> listed{
        listed_job("old", snap_new, now - 10min),
        listed_job("other-snapshot", snap_old, now + 1s),
        listed_job("automated", snap_new, now + 1s, std::nullopt, "AUTOMATED_RESTORE"),
        listed_job("ours", snap_new, now + 2s),
    };
    EXPECT_EQ(ids(pick_created_jobs(listed, http_request(snap_new), now, nobody_owns)),
              std::vector<std::string>{"ours"});
    EXPECT_TRUE(
        pick_created_jobs(listed, http_request("5f1b0000000000000000dead"), now, nobody_owns).empty());
}

TEST(pick_created_jobs, jobs_other_runs_own_are_never_adopted) {
    const std::vector<atlas::restore_job> listed{
        listed_job("theirs", snap_new, now + 3s),
        listed_job("ours", snap_new, now + 2s),
    };
    // Without the ownership check the newest (theirs) would win.
    EXPECT_EQ(ids(pick_created_jobs(listed, http_request(snap_new), now, nobody_owns)),
              std::vector<std::string>{"theirs"});
    auto owned = [](const std::string& id) { return id == "theirs"; };
    EXPECT_EQ(ids(pick_created_jobs(listed, http_request(snap_new), now, owned)),
              std::vector<std::string>{"ours"});
    auto all_owned = [](const std::string&) { return true; };
    EXPECT_TRUE(pick_created_jobs(listed, http_request(snap_new), now, all_owned).empty());
}

TEST(pick_created_jobs, the_newest_batch_whole) {
    const std::vector<atlas::restore_job> listed{
        listed_job("a1", snap_new, now + 1s, "batch-a"),
        listed_job("a2", snap_new, now + 1s, "batch-a"),
        listed_job("b1", snap_new, now + 5s, "batch-b"),
        listed_job("b2", snap_new, now + 5s, "batch-b"),
        listed_job("b3", snap_new, now + 5s, "batch-b"),
    };
    EXPECT_EQ(ids(pick_created_jobs(listed, http_request(snap_new), now, nobody_owns)),
              (std::vector<std::string>{"b1", "b2", "b3"}));
    auto b_owned = [](const std::string& id) { return id[0] == 'b'; };
    EXPECT_EQ(ids(pick_created_jobs(listed, http_request(snap_new), now, b_owned)),
              (std::vector<std::string>{"a1", "a2"}));
}

}  // namespace
}  // namespace atlas_restored::runs
