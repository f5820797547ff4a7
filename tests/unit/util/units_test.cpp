#include "util/units.hpp"

#include <gtest/gtest.h>

namespace atlas_restored {
namespace {

TEST(HumanBytes, BinaryUnitsWithOneDecimal) {
    EXPECT_EQ(human_bytes(0), "0 B");
    EXPECT_EQ(human_bytes(1023), "1023 B");
    EXPECT_EQ(human_bytes(1024), "1.0 KiB");
    EXPECT_EQ(human_bytes(1536ull << 20), "1.5 GiB");
}

TEST(ProgressSummary, PercentRateAndTimeLeftWhenKnown) {
    EXPECT_EQ(progress_summary(50ull << 20, 100ull << 20, 5.0 * (1 << 20)),
              "50% (50.0 MiB of 100.0 MiB) at 5.0 MiB/s, ETA 10s");
    EXPECT_EQ(progress_summary(3ull << 30, 4ull << 30, 1.0 * (1 << 20)),
              "75% (3.0 GiB of 4.0 GiB) at 1.0 MiB/s, ETA 17m");
    // No total yet (before Content-Length), no rate yet (the first second), or done.
    EXPECT_EQ(progress_summary(2048, 0, 1024), "2.0 KiB at 1.0 KiB/s");
    EXPECT_EQ(progress_summary(2048, 4096, 0), "50% (2.0 KiB of 4.0 KiB)");
    EXPECT_EQ(progress_summary(4096, 4096, 1024), "100% (4.0 KiB of 4.0 KiB) at 1.0 KiB/s");
}

}  // namespace
}  // namespace atlas_restored
