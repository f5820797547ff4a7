#include "util/time.hpp"

#include <gtest/gtest.h>

namespace atlas_restored {
namespace {

TEST(Iso8601, ParsesUtcAndOffsetsToTheSameInstant) {
    const auto utc = parse_iso8601("2025-05-04T09:42:00Z");
    const auto offset = parse_iso8601("2025-05-04T11:42:00+02:00");
    ASSERT_TRUE(utc && offset);
    EXPECT_EQ(*utc, *offset);
    EXPECT_EQ(to_unix_millis(*utc), 1746351720000);
}

TEST(Iso8601, KeepsFractions) {
    const auto t = parse_iso8601("2025-05-04T09:42:00.250Z");
    ASSERT_TRUE(t);
    EXPECT_EQ(to_unix_millis(*t), 1746351720250);
    EXPECT_EQ(format_iso8601(*t, true), "2025-05-04T09:42:00.250Z");
}

TEST(Iso8601, RefusesImpossibleAndMalformedDates) {
    for (const char* text : {"2025-02-29T00:00:00Z",
                             "2025-13-01T00:00:00Z",
                             "2025-04-31T00:00:00Z",
                             "2025-05-04T24:00:00Z",
                             "2025-05-04 09:42:00Z",
                             "2025-05-04T09:42:00",
                             "2025-05-04T09:42:00.Z",
                             "2025-05-04T09:42:00Zjunk",
                             "",
                             "2025-05-04T09:42:00+2:00"}) {
        EXPECT_FALSE(parse_iso8601(text)) << text;
    }
    EXPECT_TRUE(parse_iso8601("2024-02-29T00:00:00Z"));
}

TEST(Iso8601, FormatsRoundTrip) {
    const auto t = from_unix_millis(1764374399000);
    EXPECT_EQ(format_iso8601(t), "2025-11-28T23:59:59Z");
    EXPECT_EQ(parse_iso8601(format_iso8601(t)), t);
}

}  // namespace
}  // namespace atlas_restored
