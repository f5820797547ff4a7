// `status --watch` piped (issue 5 §5): a plain block each time something changed, until stopped.

#include "daemon_support.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace atlas_restored::testing {
namespace {

using namespace std::chrono_literals;

TEST(DaemonStatus, WatchPipedPrintsABlockPerChange) {
    temp_dir dir{"daemon-status-watch"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "2"});
    config_options options;
    options.policies_yaml = http_policy("oncall");
    const auto config = write_config(dir.path(), fake, options);
    daemon_process daemon(dir.path(), config);
    ASSERT_TRUE(daemon.wait_started()) << daemon.log();

    process watch(process_options{
        {ATLAS_RESTORED_BIN, "status", "--config", config.string(), "--watch", "--interval", "0.2"},
        {},
        {},
        dir.path(),
        "watch"});
    ASSERT_TRUE(watch.wait_for_output("--- ", 30s)) << watch.stderr_text();
    const auto run = run_atlas_restored({"run-now", "--config", config.string(), "oncall"});
    ASSERT_EQ(run.status, 0) << run.err;
    const auto run_id = run.out.substr(0, run.out.find('\n'));
    ASSERT_TRUE(wait_for_final_runs(config, "oncall", 1).size() == 1u);
    // The watcher saw the run appear and finish, in separate blocks.
    ASSERT_TRUE(eventually(
        [&] {
            return watch.stdout_text().find(run_id + "  oncall  manual by") != std::string::npos &&
                   watch.stdout_text().find("  succeeded") != std::string::npos;
        },
        10s))
        << watch.stdout_text();
    EXPECT_TRUE(watch.running());
    watch.signal(SIGTERM);
    watch.wait(5s);
    const auto text = watch.stdout_text();
    std::size_t blocks = 0;
    for (auto at = text.find("--- "); at != std::string::npos; at = text.find("--- ", at + 4)) {
        ++blocks;
    }
    EXPECT_GE(blocks, 3u) << text;                     // before the run, during it, after it
    EXPECT_EQ(text.find("\x1b["), std::string::npos);  // no terminal control codes when piped
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait(10s), 0);
}

}  // namespace
}  // namespace atlas_restored::testing
