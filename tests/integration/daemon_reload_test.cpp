// Reload (SPEC §4): an invalid configuration is refused with every problem logged and recorded,
// while the run in flight goes on; a valid one is swapped in without disturbing it, and a removed
// policy's run still finishes.

#include "daemon_support.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace atlas_restored::testing {
namespace {

using namespace std::chrono_literals;

TEST(DaemonReload, AnInvalidReloadIsRefusedWhileTheRunContinues) {
    temp_dir dir{"daemon-reload"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "4"});
    config_options options;
    options.policies_yaml = http_policy("oncall", "rs0", "    trigger: INC-7\n");
    const auto config = write_config(dir.path(), fake, options);
    daemon_process daemon(dir.path(), config);
    ASSERT_TRUE(daemon.wait_started()) << daemon.log();
    ASSERT_TRUE(wait_for_run_state(config, "oncall", "waiting")) << daemon.log();

    // Two mistakes at once: both must be reported.
    config_options broken = options;
    broken.policies_yaml = http_policy("oncall", "rs0", "    trigger: INC-7\n    restore_piont: 1\n") +
                           http_policy("second", "rs0", "    schedule: \"61 * * * *\"\n");
    write_config(dir.path(), fake, broken);
    daemon.signal(SIGHUP);
    ASSERT_TRUE(daemon.wait_for_log("reload refused")) << daemon.log();
    const auto log = daemon.log();
    EXPECT_NE(log.find("restore_piont"), std::string::npos) << log;
    EXPECT_NE(log.find("policies[1].schedule"), std::string::npos) << log;
    EXPECT_NE(log.find(config.string() + ":"), std::string::npos) << log;  // FILE:LINE: in every problem

    const auto runs = wait_for_final_runs(config, "oncall", 1);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(str(runs[0].at("state")), "succeeded") << daemon.log();
    EXPECT_TRUE(daemon.running());

    // status works with the broken file (policies unknown), and says the reload failed.
    const auto human = run_atlas_restored({"status", "--config", config.string()});
    EXPECT_EQ(human.status, 0) << human.err;
    EXPECT_NE(human.out.find("last reload: FAILED"), std::string::npos) << human.out;
    EXPECT_NE(human.err.find("could not be loaded"), std::string::npos) << human.err;
    EXPECT_NE(human.out.find(str(runs[0].at("id"))), std::string::npos) << human.out;

    // Fixed: the next reload is taken, with the new policy.
    options.policies_yaml += http_policy("added", "rs0");
    write_config(dir.path(), fake, options);
    daemon.signal(SIGHUP);
    ASSERT_TRUE(daemon.wait_for_log("configuration reloaded")) << daemon.log();
    EXPECT_NE(daemon.log().find("added policies: added"), std::string::npos) << daemon.log();
    const auto status = status_json(config);
    ASSERT_EQ(status.at("policies").as_array().size(), 2u);
    EXPECT_EQ(str(status.at("policies").as_array()[1].at("name")), "added");
    EXPECT_EQ(counter(fake.counters(), "creates"), 1);  // the reloads started nothing twice
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait(10s), 0);
}

TEST(DaemonReload, ARemovedPolicysRunFinishes) {
    temp_dir dir{"daemon-reload-remove"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "3"});
    config_options options;
    options.policies_yaml = http_policy("leaving", "rs0", "    trigger: INC-9\n") + http_policy("staying");
    const auto config = write_config(dir.path(), fake, options);
    daemon_process daemon(dir.path(), config);
    ASSERT_TRUE(daemon.wait_started()) << daemon.log();
    ASSERT_TRUE(wait_for_run_state(config, "leaving", "waiting")) << daemon.log();

    options.policies_yaml = http_policy("staying");
    write_config(dir.path(), fake, options);
    daemon.signal(SIGHUP);
    ASSERT_TRUE(daemon.wait_for_log("configuration reloaded")) << daemon.log();
    const auto runs = wait_for_final_runs(config, "leaving", 1);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(str(runs[0].at("state")), "succeeded") << daemon.log();
    // Still listed among the runs, no longer among the policies.
    const auto status = status_json(config);
    ASSERT_EQ(status.at("policies").as_array().size(), 1u);
    EXPECT_EQ(str(status.at("policies").as_array()[0].at("name")), "staying");
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait(10s), 0);
}

TEST(DaemonReload, CheckAgainstStatePreviewsWhatTheReloadThenDoes) {
    temp_dir dir{"daemon-reload-preview"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "2"});
    config_options options;
    options.policies_yaml =
        http_policy("ran", "rs0", "    trigger: INC-1\n") + http_policy("edited") + http_policy("dropped");
    const auto config = write_config(dir.path(), fake, options);
    daemon_process daemon(dir.path(), config);
    ASSERT_TRUE(daemon.wait_started()) << daemon.log();
    ASSERT_EQ(wait_for_final_runs(config, "ran", 1).size(), 1u) << daemon.log();

    // The on-call engineer edits the file and asks what a reload would do, before sending it.
    options.policies_yaml = http_policy("ran", "rs0", "    trigger: INC-1\n") +
                            http_policy("edited", "rs0", "    resubmit_on_expiry: true\n") +
                            http_policy("fresh", "rs0", "    trigger: INC-2\n");
    write_config(dir.path(), fake, options);
    const auto preview = run_atlas_restored({"check", "--config", config.string(), "--against-state"});
    EXPECT_EQ(preview.status, 0) << preview.err;
    EXPECT_NE(preview.out.find("a reload would make these changes"), std::string::npos) << preview.out;
    EXPECT_NE(preview.out.find("added policies: fresh"), std::string::npos) << preview.out;
    EXPECT_NE(preview.out.find("removed policies: dropped"), std::string::npos) << preview.out;
    EXPECT_NE(preview.out.find("changed policies: edited"), std::string::npos) << preview.out;
    EXPECT_NE(preview.out.find("new trigger: fresh runs for trigger"), std::string::npos) << preview.out;
    EXPECT_EQ(preview.out.find("ran runs for trigger"), std::string::npos) << preview.out;  // consumed
    EXPECT_EQ(counter(fake.counters(), "creates"), 1);  // check changed nothing

    daemon.signal(SIGHUP);
    ASSERT_TRUE(daemon.wait_for_log("configuration reloaded")) << daemon.log();
    ASSERT_EQ(wait_for_final_runs(config, "fresh", 1).size(), 1u) << daemon.log();
    // Now in force: nothing left to change (the fresh trigger has run).
    const auto after = run_atlas_restored({"check", "--config", config.string(), "--against-state"});
    EXPECT_EQ(after.status, 0) << after.err;
    EXPECT_NE(after.out.find("  no changes"), std::string::npos) << after.out;
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait(10s), 0);
}

TEST(DaemonReload, CheckAgainstAnEmptyStateDirectoryIsAFirstStart) {
    temp_dir dir{"daemon-reload-first"};
    fake_atlas_server fake(dir.path());
    config_options options;
    options.policies_yaml = http_policy("oncall", "rs0", "    trigger: INC-3\n");
    const auto config = write_config(dir.path(), fake, options);
    const auto r = run_atlas_restored(
        {"check", "--config", config.string(), "--against-state=" + (dir.path() / "nothing-here").string()});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("a first start would make these changes"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("added policies: oncall"), std::string::npos) << r.out;
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "nothing-here"));  // read-only: creates nothing
}

}  // namespace
}  // namespace atlas_restored::testing
