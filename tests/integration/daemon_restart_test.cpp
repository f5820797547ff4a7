// Stop and crash (SPEC §4, issue 3 §7): SIGTERM exits 0 within 10 s and the next start resumes the
// run where it stood; SIGKILL at any point of a run, then a restart, still creates exactly one
// restore job per run (the fake's counters say how many creates it served).

#include "daemon_support.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace atlas_restored::testing {
namespace {

using namespace std::chrono_literals;

TEST(DaemonRestart, SigtermWhileWaitingThenRestartResumesWithoutASecondPost) {
    temp_dir dir{"daemon-restart"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "5"});
    config_options options;
    options.policies_yaml = http_policy("oncall", "rs0", "    trigger: INC-100\n");
    const auto config = write_config(dir.path(), fake, options);
    std::string run_id;
    {
        daemon_process daemon(dir.path(), config);
        ASSERT_TRUE(daemon.wait_started()) << daemon.log();
        const auto waiting = wait_for_run_state(config, "oncall", "waiting");
        ASSERT_TRUE(waiting) << daemon.log();
        run_id = str(waiting->at("id"));
        const auto stop_started = std::chrono::steady_clock::now();
        daemon.signal(SIGTERM);
        ASSERT_EQ(daemon.wait(10s), 0) << daemon.log();
        EXPECT_LT(std::chrono::steady_clock::now() - stop_started, 10s);
        EXPECT_FALSE(std::filesystem::exists(dir.path() / "state" / "control.sock"));
    }
    const auto stopped = runs_of(status_json(config), "oncall");
    ASSERT_EQ(stopped.size(), 1u);
    EXPECT_EQ(str(stopped[0].at("state")), "waiting");  // persisted as it stood, not failed
    EXPECT_EQ(counter(fake.counters(), "creates"), 1);

    daemon_process again(dir.path(), config);
    ASSERT_TRUE(again.wait_started()) << again.log();
    const auto runs = wait_for_final_runs(config, "oncall", 1);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(str(runs[0].at("id")), run_id);
    EXPECT_EQ(str(runs[0].at("state")), "succeeded") << again.log();
    EXPECT_EQ(counter(fake.counters(), "creates"), 1);
    EXPECT_EQ(counter(fake.counters(), "jobs_created"), 1);
    again.signal(SIGTERM);
    EXPECT_EQ(again.wait(10s), 0);
}

TEST(DaemonRestart, SigintStopsLikeSigterm) {
    temp_dir dir{"daemon-sigint"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    config_options options;
    options.policies_yaml = http_policy("idle");
    const auto config = write_config(dir.path(), fake, options);
    daemon_process daemon(dir.path(), config);
    ASSERT_TRUE(daemon.wait_started()) << daemon.log();
    daemon.signal(SIGINT);
    EXPECT_EQ(daemon.wait(10s), 0) << daemon.log();
}

// Where a SIGKILL lands in a run.
enum class kill_point {
    after_start,        // the run record exists; the submit may or may not have begun
    create_unanswered,  // Atlas created the job, its answer is still on the way (stalled)
    waiting,            // the job is known, polling
    downloading,        // the download GET is in flight (stalled)
};

struct kill_case {
    kill_point point;
    const char* name;
};

class DaemonCrash : public ::testing::TestWithParam<kill_case> {};

TEST_P(DaemonCrash, SigkillThenRestartCreatesExactlyOneJob) {
    temp_dir dir{"daemon-crash"};
    std::vector<std::string> fake_args = {"--job-seconds", "2"};
    if (GetParam().point == kill_point::create_unanswered) {
        fake_args.insert(
            fake_args.end(),
            {"--fault",
             R"({"kind":"stall","delay_ms":4000,"match":"POST /api/atlas/v2/groups/*/restoreJobs"})"});
    }
    if (GetParam().point == kill_point::downloading) {
        fake_args.insert(fake_args.end(),
                         {"--fault", R"({"kind":"stall","delay_ms":4000,"match":"GET /backup/restore/*"})"});
    }
    fake_atlas_server fake(dir.path(), fake_args);
    config_options options;
    options.policies_yaml = http_policy("oncall", "rs0", "    trigger: INC-200\n");
    const auto config = write_config(dir.path(), fake, options);
    {
        daemon_process daemon(dir.path(), config);
        switch (GetParam().point) {
            case kill_point::after_start:
                ASSERT_TRUE(daemon.wait_for_log("started by trigger 'INC-200'")) << daemon.log();
                break;
            case kill_point::create_unanswered:
                ASSERT_TRUE(eventually([&] { return counter(fake.counters(), "creates") == 1; }, 30s))
                    << daemon.log();
                break;
            case kill_point::waiting:
                ASSERT_TRUE(wait_for_run_state(config, "oncall", "waiting")) << daemon.log();
                break;
            case kill_point::downloading:
                ASSERT_TRUE(
                    eventually([&] { return counter(fake.counters(), "downloads_started") >= 1; }, 30s))
                    << daemon.log();
                break;
        }
        daemon.kill_now();
    }
    daemon_process again(dir.path(), config);
    ASSERT_TRUE(again.wait_started()) << again.log();
    const auto runs = wait_for_final_runs(config, "oncall", 1);
    ASSERT_EQ(runs.size(), 1u) << again.log();
    EXPECT_EQ(str(runs[0].at("state")), "succeeded") << again.log();
    EXPECT_EQ(runs[0].at("job_ids").as_array().size(), 1u);
    const auto counters = fake.counters();
    EXPECT_EQ(counter(counters, "creates"), 1) << again.log();
    EXPECT_EQ(counter(counters, "jobs_created"), 1);
    again.signal(SIGTERM);
    EXPECT_EQ(again.wait(10s), 0);
}

INSTANTIATE_TEST_SUITE_P(Points,
                         DaemonCrash,
                         ::testing::Values(kill_case{kill_point::after_start, "after_start"},
                                           kill_case{kill_point::create_unanswered, "create_unanswered"},
                                           kill_case{kill_point::waiting, "waiting"},
                                           kill_case{kill_point::downloading, "downloading"}),
                         [](const ::testing::TestParamInfo<kill_case>& info) { return info.param.name; });

TEST(DaemonAmbiguousCreate, ReconciledToExactlyOneJob) {
    temp_dir dir{"daemon-ambiguous"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1", "--fault", R"({"kind":"ambiguous_create"})"});
    config_options options;
    options.policies_yaml = http_policy("oncall", "rs0", "    trigger: INC-300\n");
    const auto config = write_config(dir.path(), fake, options);
    daemon_process daemon(dir.path(), config);
    ASSERT_TRUE(daemon.wait_started()) << daemon.log();
    const auto runs = wait_for_final_runs(config, "oncall", 1);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(str(runs[0].at("state")), "succeeded") << daemon.log();
    const auto counters = fake.counters();
    EXPECT_EQ(counter(counters, "faults_applied"),
              1);  // the create really was answered by a dropped connection
    EXPECT_EQ(counter(counters, "creates"), 1) << daemon.log();
    EXPECT_EQ(counter(counters, "jobs_created"), 1);
    EXPECT_EQ(runs[0].at("job_ids").as_array().size(), 1u);
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait(10s), 0);
}

}  // namespace
}  // namespace atlas_restored::testing
