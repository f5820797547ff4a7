// On-call triggers (issue 3 §4): a trigger value added by editing the file and sending SIGHUP starts
// one run; the same value never runs again (not after another reload, not after a restart); a new
// value does.

#include "daemon_support.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace atlas_restored::testing {
namespace {

using namespace std::chrono_literals;

TEST(DaemonTrigger, AValueAddedByReloadRunsOnceEver) {
    temp_dir dir{"daemon-trigger"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    config_options options;
    options.policies_yaml = http_policy("orders-oncall");
    const auto config = write_config(dir.path(), fake, options);

    daemon_process daemon(dir.path(), config);
    ASSERT_TRUE(daemon.wait_started()) << daemon.log();
    EXPECT_TRUE(runs_of(status_json(config)).empty());  // no schedule, no trigger: nothing runs

    options.policies_yaml = http_policy("orders-oncall", "rs0", "    trigger: INC-4312\n");
    write_config(dir.path(), fake, options);
    daemon.signal(SIGHUP);
    ASSERT_TRUE(daemon.wait_for_log("configuration reloaded")) << daemon.log();
    EXPECT_NE(daemon.log().find("new trigger: orders-oncall runs for trigger"), std::string::npos)
        << daemon.log();

    auto runs = wait_for_final_runs(config, "orders-oncall", 1);
    ASSERT_EQ(runs.size(), 1u) << daemon.log();
    EXPECT_EQ(str(runs[0].at("state")), "succeeded") << daemon.log();
    EXPECT_EQ(str(runs[0].at("trigger")), "INC-4312");
    ASSERT_EQ(runs[0].at("files").as_array().size(), 1u);
    const auto& file = runs[0].at("files").as_array()[0].as_object();
    EXPECT_TRUE(file.at("verified").as_bool());
    EXPECT_EQ(str(file.at("sha1")).size(), 40u);

    // The same value again: nothing new, whether by reload...
    daemon.signal(SIGHUP);
    ASSERT_TRUE(daemon.wait_for_log("configuration reloaded", 2)) << daemon.log();
    // ...or by restart.
    daemon.signal(SIGTERM);
    ASSERT_EQ(daemon.wait(10s), 0) << daemon.log();
    {
        daemon_process again(dir.path(), config);
        ASSERT_TRUE(again.wait_started()) << again.log();
        EXPECT_EQ(runs_of(status_json(config), "orders-oncall").size(), 1u) << again.log();

        // A new value starts a new run.
        options.policies_yaml = http_policy("orders-oncall", "rs0", "    trigger: INC-4313\n");
        write_config(dir.path(), fake, options);
        again.signal(SIGHUP);
        runs = wait_for_final_runs(config, "orders-oncall", 2);
        ASSERT_EQ(runs.size(), 2u) << again.log();
        EXPECT_EQ(str(runs[1].at("trigger")), "INC-4313");
        EXPECT_EQ(str(runs[1].at("state")), "succeeded") << again.log();
        again.signal(SIGTERM);
        EXPECT_EQ(again.wait(10s), 0);
    }
    EXPECT_EQ(counter(fake.counters(), "creates"), 2);
}

TEST(DaemonTrigger, ATriggerPresentAtStartRunsAtStart) {
    temp_dir dir{"daemon-trigger-start"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    config_options options;
    options.auth = auth_mode::api_key;  // HTTP Digest this time
    options.policies_yaml =
        http_policy("a", "rs0", "    trigger: INC-1\n") + http_policy("b", "sh0", "    trigger: INC-2\n");
    const auto config = write_config(dir.path(), fake, options);
    daemon_process daemon(dir.path(), config);
    ASSERT_TRUE(daemon.wait_started()) << daemon.log();
    const auto a = wait_for_final_runs(config, "a", 1);
    const auto b = wait_for_final_runs(config, "b", 1);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(str(a[0].at("state")), "succeeded") << daemon.log();
    EXPECT_EQ(str(b[0].at("state")), "succeeded") << daemon.log();
    // The sharded cluster: one batch of 3 shards + the config server, one file each.
    EXPECT_EQ(b[0].at("job_ids").as_array().size(), 4u);
    EXPECT_FALSE(b[0].at("batch_id").is_null());
    EXPECT_EQ(b[0].at("files").as_array().size(), 4u);
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait(10s), 0);

    // The private key is in no log line, status output or byte of the state directory.
    EXPECT_EQ(daemon.log().find(api_private_key), std::string::npos);
    const auto human = run_atlas_restored({"status", "--config", config.string()});
    const auto json = run_atlas_restored({"status", "--config", config.string(), "--json"});
    EXPECT_EQ(human.out.find(api_private_key), std::string::npos);
    EXPECT_EQ(json.out.find(api_private_key), std::string::npos);
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.path() / "state")) {
        if (entry.is_regular_file()) {
            EXPECT_EQ(read_file(entry.path()).find(api_private_key), std::string::npos) << entry.path();
        }
    }
}

}  // namespace
}  // namespace atlas_restored::testing
