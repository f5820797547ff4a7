// `run-now` through the control socket (STATE_DIR/control.sock): the run is recorded as manual,
// started by the calling Unix user; unknown policies and a stopped daemon are clear failures.

#include "daemon_support.hpp"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace atlas_restored::testing {
namespace {

using namespace std::chrono_literals;

std::string my_user_name() {
    struct passwd* pw = ::getpwuid(::getuid());
    return pw ? pw->pw_name : "uid " + std::to_string(::getuid());
}

TEST(DaemonRunNow, StartsAManualRunRecordingTheUser) {
    temp_dir dir{"daemon-run-now"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    config_options options;
    options.policies_yaml = http_policy("orders-restore");
    const auto config = write_config(dir.path(), fake, options);
    daemon_process daemon(dir.path(), config);
    ASSERT_TRUE(daemon.wait_started()) << daemon.log();

    const auto socket = dir.path() / "state" / "control.sock";
    struct stat st {};
    ASSERT_EQ(::lstat(socket.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    // SUDO_USER is only believed from root: run-now sends it, the daemon records it beside root.
    const auto r = run_atlas_restored({"run-now", "--config", config.string(), "orders-restore"},
                                      generous_timeout,
                                      {{"SUDO_USER", "oncall-alice"}});
    ASSERT_EQ(r.status, 0) << r.err << daemon.log();
    const auto run_id = r.out.substr(0, r.out.find('\n'));
    EXPECT_EQ(run_id.rfind("r-", 0), 0u) << r.out;

    const auto runs = wait_for_final_runs(config, "orders-restore", 1);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(str(runs[0].at("id")), run_id);
    EXPECT_EQ(str(runs[0].at("trigger")), "manual");
    const auto expected_user = ::getuid() == 0 ? my_user_name() + " (sudo: oncall-alice)" : my_user_name();
    EXPECT_EQ(str(runs[0].at("started_by")), expected_user);
    EXPECT_EQ(str(runs[0].at("state")), "succeeded") << daemon.log();

    // The human status names who started it.
    const auto human = run_atlas_restored({"status", "--config", config.string()});
    EXPECT_NE(human.out.find("daemon: running"), std::string::npos) << human.out;
    EXPECT_NE(human.out.find("manual by " + expected_user), std::string::npos) << human.out;

    daemon.signal(SIGTERM);
    ASSERT_EQ(daemon.wait(10s), 0);
    EXPECT_FALSE(std::filesystem::exists(socket));
}

TEST(DaemonRunNow, UnknownPolicyAndStoppedDaemonFailClearly) {
    temp_dir dir{"daemon-run-now-errors"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    config_options options;
    options.policies_yaml = http_policy("orders-restore");
    const auto config = write_config(dir.path(), fake, options);
    {
        daemon_process daemon(dir.path(), config);
        ASSERT_TRUE(daemon.wait_started()) << daemon.log();
        const auto unknown = run_atlas_restored({"run-now", "--config", config.string(), "orders-restor"});
        EXPECT_EQ(unknown.status, 1);
        EXPECT_NE(unknown.err.find("unknown policy 'orders-restor'"), std::string::npos) << unknown.err;
        EXPECT_NE(unknown.err.find("did you mean 'orders-restore'"), std::string::npos) << unknown.err;
        EXPECT_TRUE(unknown.out.empty());
        daemon.signal(SIGTERM);
        ASSERT_EQ(daemon.wait(10s), 0);
    }
    const auto stopped = run_atlas_restored({"run-now", "--config", config.string(), "orders-restore"});
    EXPECT_EQ(stopped.status, 1);
    EXPECT_NE(stopped.err.find("the daemon is not running"), std::string::npos) << stopped.err;
    EXPECT_TRUE(runs_of(status_json(config)).empty());
    EXPECT_EQ(counter(fake.counters(), "creates"), 0);
}

TEST(DaemonRunNow, DryRunPrintsTheRequestAndSendsNothing) {
    temp_dir dir{"daemon-dry-run"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    config_options options;
    options.policies_yaml = http_policy("orders-restore");
    const auto config = write_config(dir.path(), fake, options);
    // No daemon needed.
    const auto r =
        run_atlas_restored({"run-now", "--dry-run", "--config", config.string(), "orders-restore"});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto doc = boost::json::parse(r.out);
    EXPECT_EQ(doc.at("dry_run").as_bool(), true);
    const auto& request = doc.at("request").as_object();
    EXPECT_EQ(str(request.at("method")), "POST");
    EXPECT_EQ(str(request.at("url")),
              fake.base_url() + "/api/atlas/v2/groups/" + test_group_id + "/clusters/rs0/restoreJobs");
    // latest_snapshot resolved to a real snapshot id, the one the run would restore.
    const auto snapshot = str(request.at("body").at("snapshotId"));
    EXPECT_EQ(snapshot.size(), 24u);
    EXPECT_EQ(str(doc.at("snapshot_id")), snapshot);
    EXPECT_EQ(str(request.at("body").at("delivery").at("methodName")), "HTTP");
    EXPECT_NE(r.err.find("nothing was sent"), std::string::npos);
    EXPECT_EQ(r.out.find(sa_client_secret), std::string::npos);
    const auto counters = fake.counters();
    EXPECT_EQ(counter(counters, "creates"), 0);
    EXPECT_EQ(
        counter(counters, "requests.GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/snapshots"), 1);
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "state" / "atlas-restored.db"));

    // A pre-flight that fails says why, with the reason code, and still sends nothing.
    options.policies_yaml = http_policy("orders-restore", "no-such-cluster");
    write_config(dir.path(), fake, options);
    const auto failed =
        run_atlas_restored({"run-now", "--dry-run", "--config", config.string(), "orders-restore"});
    EXPECT_EQ(failed.status, 1);
    EXPECT_NE(failed.err.find("preflight_failed: "), std::string::npos) << failed.err;
    EXPECT_EQ(counter(fake.counters(), "creates"), 0);
}

}  // namespace
}  // namespace atlas_restored::testing
