#include "runs/report.hpp"

#include "runs/policy_codec.hpp"
#include "support/temp_dir.hpp"
#include "util/time.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace atlas_restored::runs {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

const std::int64_t t0 = to_unix_millis(std::chrono::sys_days{std::chrono::year{2026} / 11 / 28} + 3h);

state::run_record finished_run() {
    state::run_record r;
    r.id = "r-20261128-030000-abcdef";
    r.policy = "orders-drill";
    r.trigger = "schedule";
    r.state = "succeeded";
    r.group_id = "32b6e34b3d91647abb20e7b8";
    r.cluster = "orders";
    r.method = "HTTP";
    r.restore_point_json = R"({"snapshotId":"5f1b00000000000000000002"})";
    r.snapshot_id = "5f1b00000000000000000002";
    r.snapshot_time = format_iso8601(from_unix_millis(t0 - 7'200'000));
    r.batch_id = "5f1b0000000000000000ba7c";
    r.config_digest = "d1g3st";
    r.planned_at = t0;
    r.created_at = t0 + 1000;
    r.submitted_at = t0 + 4000;
    r.ready_at = t0 + 61'000;
    r.downloaded_at = t0 + 121'000;
    r.finished_at = t0 + 122'000;
    r.submissions = 1;
    return r;
}

TEST(report, timings_origin_jobs_and_files) {
    state::job_record j;
    j.run_id = "r";
    j.job_id = "aaaaaaaaaaaaaaaaaaaaaaaa";
    j.submission_no = 1;
    j.status_name = "FINISHED";
    j.delivery_status = "READY";
    j.file_name = "orders-x.tar.gz";
    state::file_record f;
    f.run_id = "r";
    f.job_id = j.job_id;
    f.file_name = "orders-x.tar.gz";
    f.bytes_done = 65536;
    f.sha1_actual = std::string(40, 'a');
    f.verified = true;
    f.attempts = 1;
    auto r = build_report(finished_run(), {j}, {f});
    EXPECT_EQ(r.at("outcome"), "succeeded");
    EXPECT_TRUE(r.at("reason").is_null());
    EXPECT_EQ(r.at("config_digest"), "d1g3st");
    EXPECT_EQ(r.at("started_by").at("kind"), "schedule");
    EXPECT_EQ(r.at("started_by").at("planned_at"), "2026-11-28T03:00:00.000Z");
    EXPECT_EQ(r.at("restore_point").at("snapshotId"), "5f1b00000000000000000002");
    const auto& t = r.at("timings_seconds");
    EXPECT_DOUBLE_EQ(t.at("to_submit").as_double(), 3.0);
    EXPECT_DOUBLE_EQ(t.at("to_ready").as_double(), 60.0);
    EXPECT_DOUBLE_EQ(t.at("to_download_complete").as_double(), 120.0);
    EXPECT_DOUBLE_EQ(t.at("total_rto").as_double(), 121.0);
    EXPECT_DOUBLE_EQ(t.at("snapshot_age_rpo").as_double(), 7201.0);
    ASSERT_EQ(r.at("files").as_array().size(), 1u);
    EXPECT_EQ(r.at("files").at(0).at("bytes"), 65536);
    EXPECT_EQ(r.at("files").at(0).at("verified"), true);
    EXPECT_EQ(r.at("jobs").at(0).at("delivery_status"), "READY");
}

TEST(report, a_failed_trigger_run_names_its_reason_and_value) {
    auto run = finished_run();
    run.state = "failed";
    run.trigger = "INC-4312";
    run.error = "job_broken: restore job x ended BROKEN in Atlas";
    run.ready_at.reset();
    run.downloaded_at.reset();
    auto r = build_report(run, {}, {});
    EXPECT_EQ(r.at("reason"), "job_broken");
    EXPECT_EQ(r.at("started_by").at("kind"), "trigger");
    EXPECT_EQ(r.at("started_by").at("value"), "INC-4312");
    EXPECT_TRUE(r.at("timings_seconds").at("to_ready").is_null());
    EXPECT_TRUE(r.at("timings_seconds").at("to_download_complete").is_null());

    run.trigger = "manual";
    run.started_by = "alice";
    EXPECT_EQ(build_report(run, {}, {}).at("started_by").at("kind"), "run-now");
    EXPECT_EQ(build_report(run, {}, {}).at("started_by").at("user"), "alice");
    EXPECT_NE(summary_line(run).find("run-now by alice"), std::string::npos) << summary_line(run);
    EXPECT_NE(summary_line(run).find("job_broken"), std::string::npos);
}

TEST(report, summary_line_has_the_timings) {
    auto line = summary_line(finished_run());
    EXPECT_NE(line.find("r-20261128-030000-abcdef"), std::string::npos) << line;
    EXPECT_NE(line.find("orders-drill"), std::string::npos) << line;
    EXPECT_NE(line.find("succeeded in 2m1s"), std::string::npos) << line;
    EXPECT_NE(line.find("submit 3.0s"), std::string::npos) << line;
    EXPECT_NE(line.find("data 2h0m old"), std::string::npos) << line;
}

TEST(report, is_written_atomically_where_the_spec_says) {
    testing::temp_dir dir;
    auto run = finished_run();
    auto r = build_report(run, {}, {});
    ASSERT_TRUE(write_report(dir / "reports", run, r));
    const auto path = dir / "reports" / "orders-drill" / "r-20261128-030000-abcdef.json";
    EXPECT_EQ(report_path(dir / "reports", run), path);
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(json::parse(text.str()).as_object(), r);
    // Written again (a rewrite after a crash): replaced whole, no temporary left behind.
    ASSERT_TRUE(write_report(dir / "reports", run, r));
    int entries = 0;
    for ([[maybe_unused]] const auto& e :
         std::filesystem::directory_iterator(dir / "reports" / "orders-drill")) {
        ++entries;
    }
    EXPECT_EQ(entries, 1);
}

TEST(policy_codec, round_trips_what_a_run_needs) {
    config::policy p;
    p.name = "orders-drill";
    p.group_id = "32b6e34b3d91647abb20e7b8";
    p.cluster = "orders";
    p.profile = "payments-org";
    p.trigger = "INC-1";
    p.point.kind = config::restore_point_kind::oplog;
    p.point.oplog_ts = "2026-11-28T01:00:00Z";
    p.point.oplog_inc = 4;
    p.delivery.method = "AUTOMATED_RESTORE";
    p.delivery.target_group_id = "32b6e34b3d91647abb20e7b8";
    p.delivery.target_cluster_name = "drill";
    p.delivery.confirm_overwrite = "drill";
    p.download.keep_last = 5;
    p.download.max_file_bytes = 1ull << 33;
    p.download.on_mismatch = config::mismatch_action::delete_file;
    p.after_download = config::after_download_settings{{"/usr/bin/tar", "-tzf", "{file}"}, 90s};
    p.resubmit_on_expiry = true;
    p.poll_interval = 5s;
    p.deadline = 2h;
    auto back = policy_from_json(policy_to_json(p));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->name, p.name);
    EXPECT_EQ(back->group_id, p.group_id);
    EXPECT_EQ(back->cluster, p.cluster);
    EXPECT_EQ(back->profile, p.profile);
    EXPECT_EQ(back->trigger, p.trigger);
    EXPECT_EQ(back->point.kind, p.point.kind);
    EXPECT_EQ(back->point.oplog_ts, p.point.oplog_ts);
    EXPECT_EQ(back->point.oplog_inc, 4);
    EXPECT_EQ(back->delivery.method, "AUTOMATED_RESTORE");
    EXPECT_EQ(back->delivery.target_cluster_name, p.delivery.target_cluster_name);
    EXPECT_EQ(back->delivery.confirm_overwrite, p.delivery.confirm_overwrite);
    EXPECT_FALSE(back->delivery.max_downloads);
    EXPECT_EQ(back->download.keep_last, 5);
    EXPECT_EQ(back->download.max_file_bytes, 1ull << 33);
    EXPECT_EQ(back->download.on_mismatch, config::mismatch_action::delete_file);
    ASSERT_TRUE(back->after_download);
    EXPECT_EQ(back->after_download->command, p.after_download->command);
    EXPECT_EQ(back->after_download->timeout, 90s);
    EXPECT_TRUE(back->resubmit_on_expiry);
    EXPECT_EQ(back->poll_interval, 5s);
    EXPECT_EQ(back->deadline, 2h);

    for (auto kind : {config::restore_point_kind::latest_snapshot,
                      config::restore_point_kind::snapshot_id,
                      config::restore_point_kind::point_in_time,
                      config::restore_point_kind::checkpoint_id}) {
        config::policy q = p;
        q.point = {};
        q.point.kind = kind;
        q.point.snapshot_id = "5f1b00000000000000000002";
        q.point.point_in_time_utc_millis = 1764300000000;
        q.point.checkpoint_id = "5f1b000000000000000000cc";
        auto b = policy_from_json(policy_to_json(q));
        ASSERT_TRUE(b);
        EXPECT_EQ(b->point.kind, kind);
        if (kind == config::restore_point_kind::snapshot_id) {
            EXPECT_EQ(b->point.snapshot_id, q.point.snapshot_id);
        }
        if (kind == config::restore_point_kind::point_in_time) {
            EXPECT_EQ(b->point.point_in_time_utc_millis, 1764300000000);
        }
        if (kind == config::restore_point_kind::checkpoint_id) {
            EXPECT_EQ(b->point.checkpoint_id, q.point.checkpoint_id);
        }
    }
}

TEST(policy_codec, refuses_what_it_did_not_write) {
    EXPECT_FALSE(policy_from_json(""));
    EXPECT_FALSE(policy_from_json("[]"));
    EXPECT_FALSE(policy_from_json(R"({"format":2})"));
    auto missing = policy_from_json(R"({"format":1,"name":"p","group_id":"g","cluster":"c"})");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("restore_point"), std::string::npos) << missing.error().message;
    auto wrong = policy_from_json(
        R"({"format":1,"name":"p","group_id":"g","cluster":"c","restore_point":{"kind":"x"},"delivery":{"method":"HTTP"}})");
    ASSERT_FALSE(wrong);
    EXPECT_NE(wrong.error().message.find("restore_point.kind"), std::string::npos) << wrong.error().message;
}

}  // namespace
}  // namespace atlas_restored::runs
