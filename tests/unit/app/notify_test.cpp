#include "app/notify.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <unistd.h>

namespace atlas_restored::app {
namespace {

TEST(NotifyMessages, TheProtocolLines) {
    EXPECT_EQ(ready_message("2 active runs"), "READY=1\nSTATUS=2 active runs");
    EXPECT_EQ(reloading_message(123456789),
              "RELOADING=1\nMONOTONIC_USEC=123456789\nSTATUS=reloading the configuration");
    EXPECT_EQ(
        reload_failed_message("a.yaml:3: bad\nb.yaml:4: worse"),
        "READY=1\nSTATUS=reload failed: a.yaml:3: bad b.yaml:4: worse");  // one line: no stray assignment
    EXPECT_EQ(stopping_message(), "STOPPING=1\nSTATUS=stopping");
    EXPECT_EQ(status_message("x"), "STATUS=x");
    EXPECT_EQ(watchdog_message(), "WATCHDOG=1");
}

TEST(NotifyMessages, SummaryLine) {
    runs::engine_summary s;
    EXPECT_EQ(describe_summary(s), "0 active runs, 0 queued, 0 downloads");
    s.active_runs = 1;
    s.queued_runs = 2;
    s.active_downloads = 1;
    s.download_bytes_done = 1536;
    s.download_bytes_total = 3 * 1024 * 1024;
    EXPECT_EQ(describe_summary(s), "1 active run, 2 queued, 1 download (1.5 KiB of 3.0 MiB)");
}

TEST(Watchdog, HalfOfWatchdogUsecAndOffWithoutIt) {
    ::unsetenv("WATCHDOG_PID");
    ::unsetenv("WATCHDOG_USEC");
    EXPECT_FALSE(watchdog_ping_interval());
    ::setenv("WATCHDOG_USEC", "20000000", 1);
    auto every = watchdog_ping_interval();
    ASSERT_TRUE(every);
    EXPECT_EQ(every->count(), 10'000'000);
    // Meant for another process (WATCHDOG_PID names someone else): not ours to pet.
    ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
    EXPECT_FALSE(watchdog_ping_interval());
    ::unsetenv("WATCHDOG_PID");
    ::unsetenv("WATCHDOG_USEC");
}

TEST(Monotonic, Increases) {
    const auto a = monotonic_usec_now();
    const auto b = monotonic_usec_now();
    EXPECT_GT(a, 0u);
    EXPECT_GE(b, a);
}

}  // namespace
}  // namespace atlas_restored::app
