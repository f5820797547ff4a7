// systemd notification protocol (issue 5 §2): with $NOTIFY_SOCKET pointing at a datagram socket the
// test binds, the daemon sends READY=1 once the configuration and state are open, RELOADING=1 with
// MONOTONIC_USEC then READY=1 on SIGHUP (a failed reload says so in STATUS=), STOPPING=1 on
// SIGTERM, and WATCHDOG=1 at half of $WATCHDOG_USEC.

#include "daemon_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <ctime>

namespace atlas_restored::testing {
namespace {

using namespace std::chrono_literals;

bool has(const std::string& message, const std::string& line) {
    return ("\n" + message + "\n").find("\n" + line + "\n") != std::string::npos;
}

std::uint64_t monotonic_usec() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

TEST(DaemonNotify, ReadyReloadingStoppingAndWatchdog) {
    temp_dir dir{"daemon-notify"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    config_options options;
    options.policies_yaml = http_policy("drill");
    const auto config = write_config(dir.path(), fake, options);
    notify_listener systemd(dir.path() / "notify.sock");

    daemon_process daemon(
        dir.path(), config, {{"NOTIFY_SOCKET", systemd.path().string()}, {"WATCHDOG_USEC", "1000000"}});
    const auto ready = systemd.wait_for([](const std::string& m) { return has(m, "READY=1"); }, 30s);
    ASSERT_TRUE(ready) << daemon.log();
    EXPECT_NE(ready->find("STATUS=0 active runs"), std::string::npos) << *ready;

    // Watchdog pings every 0.5 s: at least three within two seconds.
    const auto pings_before = std::count(systemd.messages().begin(), systemd.messages().end(), "WATCHDOG=1");
    int pings = 0;
    const auto until = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < until) {
        if (systemd.wait_for([](const std::string& m) { return m == "WATCHDOG=1"; }, 1s)) {
            ++pings;
        }
    }
    EXPECT_GE(pings + pings_before, 3);

    // A good reload: RELOADING=1 with a plausible MONOTONIC_USEC, then READY=1.
    const auto before_reload = monotonic_usec();
    daemon.signal(SIGHUP);
    const auto reloading = systemd.wait_for([](const std::string& m) { return has(m, "RELOADING=1"); }, 30s);
    ASSERT_TRUE(reloading) << daemon.log();
    const auto at = reloading->find("MONOTONIC_USEC=");
    ASSERT_NE(at, std::string::npos) << *reloading;
    const auto usec = std::stoull(reloading->substr(at + 15));
    EXPECT_GE(usec, before_reload);
    EXPECT_LE(usec, monotonic_usec());
    ASSERT_TRUE(systemd.wait_for([](const std::string& m) { return has(m, "READY=1"); }, 30s));

    // A refused reload: RELOADING=1, then READY=1 with the failure in STATUS=.
    write_file(config, "atlas: [not, a, mapping\n");
    daemon.signal(SIGHUP);
    ASSERT_TRUE(systemd.wait_for([](const std::string& m) { return has(m, "RELOADING=1"); }, 30s));
    const auto failed = systemd.wait_for([](const std::string& m) { return has(m, "READY=1"); }, 30s);
    ASSERT_TRUE(failed) << daemon.log();
    EXPECT_NE(failed->find("STATUS=reload failed: "), std::string::npos) << *failed;

    daemon.signal(SIGTERM);
    ASSERT_TRUE(systemd.wait_for([](const std::string& m) { return has(m, "STOPPING=1"); }, 30s))
        << daemon.log();
    EXPECT_EQ(daemon.wait(10s), 0) << daemon.log();

    // Order: READY before the first RELOADING; nothing after STOPPING but watchdog pings.
    const auto& all = systemd.messages();
    std::size_t first_ready = all.size(), first_reloading = all.size(), stopping = all.size();
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (first_ready == all.size() && has(all[i], "READY=1")) {
            first_ready = i;
        }
        if (first_reloading == all.size() && has(all[i], "RELOADING=1")) {
            first_reloading = i;
        }
        if (has(all[i], "STOPPING=1")) {
            stopping = i;
        }
    }
    EXPECT_LT(first_ready, first_reloading);
    for (std::size_t i = stopping + 1; i < all.size(); ++i) {
        EXPECT_EQ(all[i], "WATCHDOG=1");
    }
}

TEST(DaemonNotify, NoWatchdogWithoutWatchdogUsec) {
    temp_dir dir{"daemon-notify-nowd"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    config_options options;
    options.policies_yaml = http_policy("drill");
    const auto config = write_config(dir.path(), fake, options);
    notify_listener systemd(dir.path() / "notify.sock");
    daemon_process daemon(dir.path(), config, {{"NOTIFY_SOCKET", systemd.path().string()}});
    ASSERT_TRUE(systemd.wait_for([](const std::string& m) { return has(m, "READY=1"); }, 30s))
        << daemon.log();
    EXPECT_FALSE(systemd.wait_for([](const std::string& m) { return m == "WATCHDOG=1"; }, 1500ms));
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait(10s), 0);
}

}  // namespace
}  // namespace atlas_restored::testing
