#include "schedule/duration.hpp"

#include <gtest/gtest.h>

namespace atlas_restored::schedule {
namespace {

using namespace std::chrono_literals;

TEST(duration, parses_single_units) {
    EXPECT_EQ(parse_duration("30s").value(), 30s);
    EXPECT_EQ(parse_duration("5m").value(), 5min);
    EXPECT_EQ(parse_duration("6h").value(), 6h);
    EXPECT_EQ(parse_duration("7d").value(), std::chrono::hours(7 * 24));
    EXPECT_EQ(parse_duration("500ms").value(), 500ms);
    EXPECT_EQ(parse_duration("0s").value(), 0ms);
    EXPECT_EQ(parse_duration("007s").value(), 7s);
}

TEST(duration, parses_combinations_largest_first) {
    EXPECT_EQ(parse_duration("1h30m").value(), 90min);
    EXPECT_EQ(parse_duration("1d12h").value(), 36h);
    EXPECT_EQ(parse_duration("1m30s500ms").value(), 90500ms);
    EXPECT_EQ(parse_duration("2d3h4m5s6ms").value(),
              std::chrono::milliseconds(((2 * 24 + 3) * 60 + 4) * 60000 + 5006));
    EXPECT_EQ(parse_duration("36500d").value(), std::chrono::hours(36500 * 24));
}

struct bad_duration {
    const char* text;
    const char* message;
};

class duration_error : public ::testing::TestWithParam<bad_duration> {};

TEST_P(duration_error, says_what_is_allowed) {
    const auto parsed = parse_duration(GetParam().text);
    ASSERT_FALSE(parsed) << GetParam().text;
    EXPECT_EQ(parsed.error().code, errc::invalid_input);
    EXPECT_EQ(parsed.error().message, GetParam().message);
}

#define ALLOWED "; allowed units: ms, s, m, h, d (e.g. 30s, 5m, 1h30m)"
INSTANTIATE_TEST_SUITE_P(
    kinds,
    duration_error,
    ::testing::Values(
        bad_duration{"", "empty duration" ALLOWED},
        bad_duration{"30", "'30' is not a duration: a number needs a unit" ALLOWED},
        bad_duration{"h", "'h' is not a duration: expected a whole number before each unit" ALLOWED},
        bad_duration{"5x", "'5x' is not a duration: unknown unit 'x'" ALLOWED},
        bad_duration{"5min", "'5min' is not a duration: unknown unit 'min'" ALLOWED},
        bad_duration{"5S", "'5S' is not a duration: unknown unit 'S'" ALLOWED},
        bad_duration{"-5s", "'-5s' is not a duration: it cannot be negative" ALLOWED},
        bad_duration{"1.5h", "'1.5h' is not a duration: use whole numbers (e.g. 1h30m)" ALLOWED},
        bad_duration{".5h", "'.5h' is not a duration: use whole numbers (e.g. 1h30m)" ALLOWED},
        bad_duration{"30m1h",
                     "'30m1h' is not a duration: units must go from the largest to the "
                     "smallest, each once" ALLOWED},
        bad_duration{"1h1h",
                     "'1h1h' is not a duration: units must go from the largest to the "
                     "smallest, each once" ALLOWED},
        bad_duration{"1h 30m",
                     "'1h 30m' is not a duration: expected a whole number before each unit" ALLOWED},
        bad_duration{" 5s", "' 5s' is not a duration: expected a whole number before each unit" ALLOWED},
        bad_duration{"5s ", "'5s ' is not a duration: expected a whole number before each unit" ALLOWED},
        bad_duration{"5 s", "'5 s' is not a duration: unexpected ' '" ALLOWED},
        bad_duration{"36501d", "'36501d' is not a duration: it is longer than 36500d" ALLOWED},
        bad_duration{"99999999999999999999s",
                     "'99999999999999999999s' is not a duration: it is longer than 36500d" ALLOWED}));
#undef ALLOWED

TEST(duration, formats_with_the_largest_units) {
    EXPECT_EQ(format_duration(0ms), "0s");
    EXPECT_EQ(format_duration(500ms), "500ms");
    EXPECT_EQ(format_duration(30s), "30s");
    EXPECT_EQ(format_duration(90min), "1h30m");
    EXPECT_EQ(format_duration(std::chrono::hours(7 * 24)), "7d");
    EXPECT_EQ(format_duration(90500ms), "1m30s500ms");
    EXPECT_EQ(format_duration(-5s), "-5s");
    EXPECT_EQ(format_duration(std::chrono::milliseconds::min()).front(), '-');
}

TEST(duration, format_and_parse_round_trip) {
    for (const auto d : {std::chrono::milliseconds(1),
                         std::chrono::milliseconds(999),
                         std::chrono::milliseconds(1000),
                         std::chrono::milliseconds(61001),
                         std::chrono::milliseconds(86400000 + 1),
                         std::chrono::milliseconds(3 * 86400000LL + 3600000 * 23 + 59 * 60000 + 59999)}) {
        const auto text = format_duration(d);
        const auto parsed = parse_duration(text);
        ASSERT_TRUE(parsed) << text;
        EXPECT_EQ(*parsed, d) << text;
    }
}

}  // namespace
}  // namespace atlas_restored::schedule
