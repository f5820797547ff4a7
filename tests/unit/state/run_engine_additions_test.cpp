// The store additions of schema version 2 (made for the run engine): a run's policy settings, the
// owner of a restore job id, and the migration of a version-1 database that already holds runs.

#include "state/schema.hpp"
#include "state/store.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

namespace atlas_restored::state {
namespace {

using testing::temp_dir;

run_record a_run(std::string id) {
    run_record run;
    run.id = std::move(id);
    run.policy = "orders-drill";
    run.trigger = "schedule";
    run.state = run_state::pending;
    run.group_id = "32b6e34b3d91647abb20e7b8";
    run.cluster = "orders";
    run.method = "HTTP";
    run.restore_point_json = R"({"latestSnapshot":true})";
    run.config_digest = "abc";
    run.created_at = 1'764'374'400'000;
    return run;
}

job_record a_job(std::string run_id, std::string job_id) {
    job_record job;
    job.run_id = std::move(run_id);
    job.job_id = std::move(job_id);
    job.submission_no = 1;
    job.status_name = "IN_PROGRESS";
    return job;
}

TEST(store_v2, a_runs_policy_settings_are_kept_and_survive_update_run) {
    temp_dir dir;
    auto s = store::open(dir.path());
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_TRUE(s->insert_run(a_run("r-1")));
    EXPECT_EQ(s->get_run_policy("r-1").value(), std::optional<std::string>(""));
    ASSERT_TRUE(s->set_run_policy("r-1", R"({"name":"orders-drill"})"));
    auto run = s->get_run("r-1").value().value();
    run.state = run_state::submitting;
    ASSERT_TRUE(s->update_run(run));  // run_record has no policy_json: the settings stay
    EXPECT_EQ(s->get_run_policy("r-1").value(), std::optional<std::string>(R"({"name":"orders-drill"})"));
}

TEST(store_v2, policy_of_an_unknown_run) {
    temp_dir dir;
    auto s = store::open(dir.path());
    ASSERT_TRUE(s);
    EXPECT_EQ(s->get_run_policy("r-x").value(), std::nullopt);
    auto set = s->set_run_policy("r-x", "{}");
    ASSERT_FALSE(set);
    EXPECT_EQ(set.error().code, errc::not_found);
}

TEST(store_v2, a_job_ids_owner) {
    temp_dir dir;
    auto s = store::open(dir.path());
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->insert_run(a_run("r-1")));
    ASSERT_TRUE(s->insert_run(a_run("r-2")));
    ASSERT_TRUE(s->upsert_job(a_job("r-1", "aaaaaaaaaaaaaaaaaaaaaaaa")));
    ASSERT_TRUE(s->upsert_job(a_job("r-2", "bbbbbbbbbbbbbbbbbbbbbbbb")));
    EXPECT_EQ(s->find_job_owner("aaaaaaaaaaaaaaaaaaaaaaaa").value(), std::optional<std::string>("r-1"));
    EXPECT_EQ(s->find_job_owner("bbbbbbbbbbbbbbbbbbbbbbbb").value(), std::optional<std::string>("r-2"));
    EXPECT_EQ(s->find_job_owner("cccccccccccccccccccccccc").value(), std::nullopt);
}

TEST(store_v2, a_version_1_database_with_runs_is_migrated_in_place) {
    temp_dir dir;
    {
        auto c = db::open(store::database_path(dir.path()));
        ASSERT_TRUE(c);
        ASSERT_TRUE(migrate(*c, migrations().subspan(0, 1)));
        ASSERT_TRUE(
            c->exec("INSERT INTO runs (id, policy, run_trigger, state, group_id, cluster, method, "
                    "restore_point_json, config_digest) VALUES ('r-old', 'p', 'schedule', 'waiting', "
                    "'32b6e34b3d91647abb20e7b8', 'orders', 'HTTP', '{}', 'd')"));
        EXPECT_EQ(c->query_int("PRAGMA user_version").value(), 1);
    }
    auto s = store::open(dir.path());
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->connection().query_int("PRAGMA user_version").value(), current_schema_version());
    auto run = s->get_run("r-old").value();
    ASSERT_TRUE(run);
    EXPECT_EQ(run->state, run_state::waiting);
    EXPECT_EQ(s->get_run_policy("r-old").value(), std::optional<std::string>(""));
}

}  // namespace
}  // namespace atlas_restored::state
