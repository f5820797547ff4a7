#include "schedule/cron.hpp"

#include "schedule/time_zone.hpp"
#include "test_time.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace atlas_restored::schedule {
namespace {

using namespace std::chrono_literals;
using test::iso;
using test::local;
using test::utc;
using test::zone;

cron_expression cron(const char* text) {
    auto parsed = cron_expression::parse(text);
    if (!parsed) {
        throw std::runtime_error(parsed.error().message);
    }
    return *parsed;
}

std::vector<std::string> isos(const std::vector<std::chrono::system_clock::time_point>& times) {
    std::vector<std::string> out;
    for (const auto t : times) {
        out.push_back(iso(t));
    }
    return out;
}

// The minutes of one hour that match the expression's minute field (everything else is *).
std::set<int> minutes_of(const char* minute_field) {
    const auto expr = cron((std::string(minute_field) + " * * * *").c_str());
    std::set<int> out;
    for (int m = 0; m < 60; ++m) {
        if (expr.matches(local(2024, 5, 1, 10, m))) {
            out.insert(m);
        }
    }
    return out;
}

struct parse_error_case {
    const char* expression;
    const char* message;
};

class cron_parse_error : public ::testing::TestWithParam<parse_error_case> {};

TEST_P(cron_parse_error, names_the_field_and_what_is_allowed) {
    auto parsed = cron_expression::parse(GetParam().expression);
    ASSERT_FALSE(parsed) << GetParam().expression;
    EXPECT_EQ(parsed.error().code, errc::invalid_input);
    EXPECT_EQ(parsed.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    kinds,
    cron_parse_error,
    ::testing::Values(
        parse_error_case{
            "", "empty cron expression; expected 5 fields (minute hour day-of-month month day-of-week)"},
        parse_error_case{
            "  ", "empty cron expression; expected 5 fields (minute hour day-of-month month day-of-week)"},
        parse_error_case{"* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"},
        parse_error_case{"0 0 * * * *",
                         "expected 5 fields (minute hour day-of-month month day-of-week), got 6"},
        parse_error_case{"60 * * * *", "minute: 60 is out of range 0-59"},
        parse_error_case{"0 24 * * *", "hour: 24 is out of range 0-23"},
        parse_error_case{"0 0 0 * *", "day-of-month: 0 is out of range 1-31"},
        parse_error_case{"0 0 32 * *", "day-of-month: 32 is out of range 1-31"},
        parse_error_case{"0 0 * 13 *", "month: 13 is out of range 1-12"},
        parse_error_case{"0 0 * * 8", "day-of-week: 8 is out of range 0-7"},
        parse_error_case{"0 99999999999 * * *", "hour: 99999999999 is out of range 0-23"},
        parse_error_case{"0 0 * FOO *", "month: 'FOO' is not a month (JAN-DEC or 1-12)"},
        parse_error_case{"0 0 * * FUNDAY", "day-of-week: 'FUNDAY' is not a weekday (SUN-SAT or 0-7)"},
        parse_error_case{"0 0 * * JAN", "day-of-week: 'JAN' is not a weekday (SUN-SAT or 0-7)"},
        parse_error_case{"x * * * *", "minute: 'x' is not a number 0-59"},
        parse_error_case{"0 MON * * *", "hour: 'MON' is not a number 0-23"},
        parse_error_case{"0 0 ? * *", "day-of-month: '?' is not a number 1-31"},
        parse_error_case{"0 0 L * *", "day-of-month: 'L' is not a number 1-31"},
        parse_error_case{"5-3 * * * *",
                         "minute: range 5-3 goes backwards (ranges do not wrap around; allowed 0-59)"},
        parse_error_case{
            "0 0 * * FRI-MON",
            "day-of-week: range FRI-MON goes backwards (ranges do not wrap around; allowed 0-7)"},
        parse_error_case{"*/0 * * * *", "minute: step 0 is out of range 1-60"},
        parse_error_case{"0 */25 * * *", "hour: step 25 is out of range 1-24"},
        parse_error_case{"*/x * * * *", "minute: step 'x' in '*/x' is not a number 1-60"},
        parse_error_case{"*/ * * * *", "minute: step '' in '*/' is not a number 1-60"},
        parse_error_case{"1/2/3 * * * *", "minute: step '2/3' in '1/2/3' is not a number 1-60"},
        parse_error_case{"1,,2 * * * *", "minute: empty list element in '1,,2'"},
        parse_error_case{"1, * * * *", "minute: empty list element in '1,'"},
        parse_error_case{"1- * * * *", "minute: missing number (allowed 0-59)"},
        parse_error_case{"-5 * * * *", "minute: missing number (allowed 0-59)"},
        parse_error_case{"1-2-3 * * * *", "minute: '2-3' is not a number 0-59"},
        parse_error_case{
            "@reboot", "unknown cron macro '@reboot'; allowed: @hourly, @daily, @weekly, @monthly, @yearly"},
        parse_error_case{
            "@daily 0",
            "unknown cron macro '@daily 0'; allowed: @hourly, @daily, @weekly, @monthly, @yearly"}));

TEST(cron, accepts_whitespace_and_keeps_the_text) {
    auto parsed = cron_expression::parse("  0  3\t* *   SUN \n");
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->text(), "0  3\t* *   SUN");
}

TEST(cron, lists_ranges_and_steps) {
    EXPECT_EQ(minutes_of("0,15,30,45"), (std::set<int>{0, 15, 30, 45}));
    EXPECT_EQ(minutes_of("10-12"), (std::set<int>{10, 11, 12}));
    EXPECT_EQ(minutes_of("*/15"), (std::set<int>{0, 15, 30, 45}));
    EXPECT_EQ(minutes_of("*/25"), (std::set<int>{0, 25, 50}));
    EXPECT_EQ(minutes_of("10-30/10"), (std::set<int>{10, 20, 30}));
    EXPECT_EQ(minutes_of("5/20"), (std::set<int>{5, 25, 45}));
    EXPECT_EQ(minutes_of("1,2-4,50-59/5"), (std::set<int>{1, 2, 3, 4, 50, 55}));
    EXPECT_EQ(minutes_of("7"), (std::set<int>{7}));
    EXPECT_EQ(minutes_of("*").size(), 60U);
    EXPECT_EQ(minutes_of("*/60"), (std::set<int>{0}));
}

TEST(cron, hours_days_and_months) {
    const auto office = cron("0 9-17/4 * * *");
    EXPECT_TRUE(office.matches(local(2024, 5, 1, 9, 0)));
    EXPECT_TRUE(office.matches(local(2024, 5, 1, 13, 0)));
    EXPECT_TRUE(office.matches(local(2024, 5, 1, 17, 0)));
    EXPECT_FALSE(office.matches(local(2024, 5, 1, 10, 0)));
    EXPECT_FALSE(office.matches(local(2024, 5, 1, 9, 1)));

    const auto quarterly = cron("0 0 1 1-12/3 *");
    EXPECT_TRUE(quarterly.matches(local(2024, 1, 1)));
    EXPECT_TRUE(quarterly.matches(local(2024, 4, 1)));
    EXPECT_TRUE(quarterly.matches(local(2024, 10, 1)));
    EXPECT_FALSE(quarterly.matches(local(2024, 2, 1)));
    EXPECT_FALSE(quarterly.matches(local(2024, 4, 2)));
}

TEST(cron, month_and_weekday_names_in_any_case) {
    const auto spring = cron("0 0 * mar-May *");
    EXPECT_FALSE(spring.matches(local(2024, 2, 29)));
    EXPECT_TRUE(spring.matches(local(2024, 3, 1)));
    EXPECT_TRUE(spring.matches(local(2024, 5, 31)));
    EXPECT_FALSE(spring.matches(local(2024, 6, 1)));

    const auto weekdays = cron("0 9 * * mon-FRI");
    EXPECT_TRUE(weekdays.matches(local(2024, 5, 6, 9)));    // Monday
    EXPECT_TRUE(weekdays.matches(local(2024, 5, 10, 9)));   // Friday
    EXPECT_FALSE(weekdays.matches(local(2024, 5, 11, 9)));  // Saturday
    EXPECT_FALSE(weekdays.matches(local(2024, 5, 12, 9)));  // Sunday

    EXPECT_TRUE(cron("0 0 * JAN,Jul sat").matches(local(2024, 7, 6)));
    EXPECT_FALSE(cron("0 0 * JAN,Jul sat").matches(local(2024, 7, 7)));
}

TEST(cron, seven_is_sunday_too) {
    const auto sunday = local(2024, 5, 12);
    EXPECT_TRUE(cron("0 0 * * 7").matches(sunday));
    EXPECT_TRUE(cron("0 0 * * 0").matches(sunday));
    EXPECT_TRUE(cron("0 0 * * SUN").matches(sunday));
    EXPECT_FALSE(cron("0 0 * * 7").matches(local(2024, 5, 11)));
    const auto weekend = cron("0 0 * * 5-7");
    EXPECT_TRUE(weekend.matches(local(2024, 5, 10)));   // Friday
    EXPECT_TRUE(weekend.matches(local(2024, 5, 11)));   // Saturday
    EXPECT_TRUE(weekend.matches(local(2024, 5, 12)));   // Sunday
    EXPECT_FALSE(weekend.matches(local(2024, 5, 9)));   // Thursday
    EXPECT_FALSE(weekend.matches(local(2024, 5, 13)));  // Monday
}

TEST(cron, vixie_rule_either_day_field_when_both_are_restricted) {
    const auto either = cron("0 0 13 * FRI");
    EXPECT_TRUE(either.matches(local(2024, 9, 6)));    // a Friday, not the 13th
    EXPECT_TRUE(either.matches(local(2024, 8, 13)));   // the 13th, a Tuesday
    EXPECT_TRUE(either.matches(local(2024, 9, 13)));   // both
    EXPECT_FALSE(either.matches(local(2024, 9, 14)));  // neither
}

TEST(cron, vixie_rule_both_when_a_day_field_starts_with_a_star) {
    const auto fridays = cron("0 0 * * FRI");
    EXPECT_TRUE(fridays.matches(local(2024, 9, 6)));
    EXPECT_FALSE(fridays.matches(local(2024, 8, 13)));
    const auto thirteenth = cron("0 0 13 * *");
    EXPECT_TRUE(thirteenth.matches(local(2024, 8, 13)));
    EXPECT_FALSE(thirteenth.matches(local(2024, 9, 6)));
    // "*/2" starts with a star: unrestricted in Vixie's sense, so both fields must match.
    const auto odd_fridays = cron("0 0 */2 * FRI");
    EXPECT_TRUE(odd_fridays.matches(local(2024, 9, 13)));          // Friday, odd
    EXPECT_FALSE(odd_fridays.matches(local(2024, 9, 6)));          // Friday, even
    EXPECT_FALSE(odd_fridays.matches(local(2024, 9, 15)));         // Sunday, odd
    EXPECT_FALSE(cron("0 0 1 * */2").matches(local(2024, 9, 2)));  // Monday (1), not the 1st
}

TEST(cron, macros) {
    const auto after = utc(2024, 5, 15, 10, 30);
    EXPECT_EQ(iso(cron("@hourly").next_after(after)), "2024-05-15T11:00:00Z");
    EXPECT_EQ(iso(cron("@daily").next_after(after)), "2024-05-16T00:00:00Z");
    EXPECT_EQ(iso(cron("@midnight").next_after(after)), "2024-05-16T00:00:00Z");
    EXPECT_EQ(iso(cron("@weekly").next_after(after)), "2024-05-19T00:00:00Z");  // Sunday
    EXPECT_EQ(iso(cron("@monthly").next_after(after)), "2024-06-01T00:00:00Z");
    EXPECT_EQ(iso(cron("@yearly").next_after(after)), "2025-01-01T00:00:00Z");
    EXPECT_EQ(iso(cron("@ANNUALLY").next_after(after)), "2025-01-01T00:00:00Z");
    EXPECT_EQ(cron("@daily").text(), "@daily");
}

TEST(cron, next_after_is_strictly_after) {
    const auto quarter = cron("*/15 * * * *");
    EXPECT_EQ(iso(quarter.next_after(utc(2024, 5, 1, 10, 7, 30))), "2024-05-01T10:15:00Z");
    EXPECT_EQ(iso(quarter.next_after(utc(2024, 5, 1, 10, 15))), "2024-05-01T10:30:00Z");
    EXPECT_EQ(iso(quarter.next_after(utc(2024, 5, 1, 10, 14, 59) + 999ms)), "2024-05-01T10:15:00Z");
    EXPECT_EQ(iso(quarter.next_after(utc(2024, 5, 1, 10, 15) + 1ms)), "2024-05-01T10:30:00Z");
}

TEST(cron, next_after_across_month_and_year_ends) {
    EXPECT_EQ(iso(cron("0 0 1 * *").next_after(utc(2024, 1, 31, 12))), "2024-02-01T00:00:00Z");
    EXPECT_EQ(iso(cron("0 0 * * *").next_after(utc(2024, 12, 31, 23, 59, 59))), "2025-01-01T00:00:00Z");
    EXPECT_EQ(iso(cron("30 23 31 12 *").next_after(utc(2024, 12, 31, 23, 30))), "2025-12-31T23:30:00Z");
    EXPECT_EQ(iso(cron("0 12 31 * *").next_after(utc(2024, 4, 1))), "2024-05-31T12:00:00Z");  // April has 30
    EXPECT_EQ(iso(cron("0 0 * * MON").next_after(utc(2024, 12, 29))), "2024-12-30T00:00:00Z");
    EXPECT_EQ(
        isos(cron("0 0 28-31 2 *").next_n(utc(2023, 1, 1), 4)),
        (std::vector<std::string>{
            "2023-02-28T00:00:00Z", "2024-02-28T00:00:00Z", "2024-02-29T00:00:00Z", "2025-02-28T00:00:00Z"}));
}

TEST(cron, leap_days) {
    const auto leap = cron("0 0 29 2 *");
    EXPECT_EQ(iso(leap.next_after(utc(2024, 2, 28))), "2024-02-29T00:00:00Z");
    EXPECT_EQ(iso(leap.next_after(utc(2024, 3, 1))), "2028-02-29T00:00:00Z");
    // 2100 is not a leap year: eight years to the next February 29.
    EXPECT_EQ(iso(leap.next_after(utc(2096, 3, 1))), "2104-02-29T00:00:00Z");
}

TEST(cron, impossible_schedules_give_up_quickly) {
    for (const char* text : {"0 0 30 2 *", "0 0 31 4,6,9,11 *", "* * 31 2 *", "0 0 30,31 2 *"}) {
        const auto started = std::chrono::steady_clock::now();
        EXPECT_FALSE(cron(text).next_after(utc(2024, 1, 1)).has_value()) << text;
        EXPECT_FALSE(cron(text).next_after(utc(2024, 1, 1), zone("Europe/Berlin").get()).has_value()) << text;
        // Generous even for sanitizer builds; a minute-by-minute walk over 8 years takes far longer.
        EXPECT_LT(std::chrono::steady_clock::now() - started, 1s) << text;
        EXPECT_EQ(cron(text).nominal_period(utc(2024, 1, 1)), 0s);
        EXPECT_TRUE(cron(text).next_n(utc(2024, 1, 1), 3).empty());
    }
    // The Vixie rule rescues such a day: "February 30 or any Monday in February".
    EXPECT_EQ(iso(cron("0 0 30 2 MON").next_after(utc(2024, 5, 1))), "2025-02-03T00:00:00Z");
}

TEST(cron, default_zone_is_utc) {
    const auto expr = cron("0 3 * * *");
    const auto after = utc(2024, 7, 1, 12);
    EXPECT_EQ(expr.next_after(after), expr.next_after(after, time_zone::utc().get()));
    EXPECT_EQ(iso(expr.next_after(after)), "2024-07-02T03:00:00Z");
    EXPECT_EQ(iso(expr.next_after(after, zone("Europe/Berlin").get())), "2024-07-02T01:00:00Z");
    EXPECT_EQ(iso(expr.next_after(after, zone("America/New_York").get())), "2024-07-02T07:00:00Z");
}

TEST(cron, next_n_and_nominal_period) {
    EXPECT_EQ(
        isos(cron("0 3 * * SUN").next_n(utc(2024, 5, 1), 3)),
        (std::vector<std::string>{"2024-05-05T03:00:00Z", "2024-05-12T03:00:00Z", "2024-05-19T03:00:00Z"}));
    EXPECT_TRUE(cron("0 3 * * SUN").next_n(utc(2024, 5, 1), 0).empty());
    EXPECT_EQ(cron("0 3 * * SUN").nominal_period(utc(2024, 5, 1)), std::chrono::hours(24 * 7));
    EXPECT_EQ(cron("*/5 * * * *").nominal_period(utc(2024, 5, 1)), 5min);
    EXPECT_EQ(cron("0 3 * * MON,TUE").nominal_period(utc(2024, 5, 6, 12)), std::chrono::hours(24 * 6));
    // A week across spring-forward in Berlin is an hour short.
    EXPECT_EQ(cron("0 3 * * SUN").nominal_period(utc(2024, 3, 20), zone("Europe/Berlin").get()),
              std::chrono::hours(24 * 7 - 1));
}

TEST(cron, berlin_spring_forward_fires_at_the_end_of_the_gap) {
    const auto berlin = zone("Europe/Berlin");
    // 2024-03-31: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
    EXPECT_EQ(isos(cron("30 2 * * *").next_n(utc(2024, 3, 30, 12), 2, berlin.get())),
              (std::vector<std::string>{"2024-03-31T01:00:00Z", "2024-04-01T00:30:00Z"}));
    // Several skipped fire times collapse into one.
    EXPECT_EQ(isos(cron("*/15 2 * * *").next_n(utc(2024, 3, 30, 23), 2, berlin.get())),
              (std::vector<std::string>{"2024-03-31T01:00:00Z", "2024-04-01T00:00:00Z"}));
    // A fire time at the end of the gap and the skipped ones do not double up.
    EXPECT_EQ(
        isos(cron("0,30 2,3 * * *").next_n(utc(2024, 3, 30, 23), 3, berlin.get())),
        (std::vector<std::string>{"2024-03-31T01:00:00Z", "2024-03-31T01:30:00Z", "2024-04-01T00:00:00Z"}));
    // Hourly: 02:00 does not exist, 03:00 comes one real hour after 01:00.
    EXPECT_EQ(
        isos(cron("0 * * * *").next_n(utc(2024, 3, 30, 23, 30), 3, berlin.get())),
        (std::vector<std::string>{"2024-03-31T00:00:00Z", "2024-03-31T01:00:00Z", "2024-03-31T02:00:00Z"}));
    // The footer rule drives the same behaviour in 2090.
    EXPECT_EQ(iso(cron("30 2 * * *").next_after(utc(2090, 3, 25, 12), berlin.get())), "2090-03-26T01:00:00Z");
}

TEST(cron, berlin_fall_back_fires_once_at_the_first_occurrence) {
    const auto berlin = zone("Europe/Berlin");
    // 2024-10-27: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:00-02:59 happens twice.
    EXPECT_EQ(isos(cron("30 2 * * *").next_n(utc(2024, 10, 26, 12), 2, berlin.get())),
              (std::vector<std::string>{"2024-10-27T00:30:00Z", "2024-10-28T01:30:00Z"}));
    // Starting inside the second occurrence: the first one is past, so nothing fires again.
    EXPECT_EQ(iso(cron("30 2 * * *").next_after(utc(2024, 10, 27, 1, 10), berlin.get())),
              "2024-10-28T01:30:00Z");
    // Documented choice for '*' hours too: the repeated hour does not fire a second time.
    EXPECT_EQ(
        isos(cron("*/30 * * * *").next_n(utc(2024, 10, 26, 23, 50), 4, berlin.get())),
        (std::vector<std::string>{
            "2024-10-27T00:00:00Z", "2024-10-27T00:30:00Z", "2024-10-27T02:00:00Z", "2024-10-27T02:30:00Z"}));
}

TEST(cron, new_york_gap_and_repeat) {
    const auto new_york = zone("America/New_York");
    // 2024-03-10: 02:00 EST -> 03:00 EDT at 07:00 UTC.
    EXPECT_EQ(isos(cron("30 2 * * *").next_n(utc(2024, 3, 9, 12), 2, new_york.get())),
              (std::vector<std::string>{"2024-03-10T07:00:00Z", "2024-03-11T06:30:00Z"}));
    // 2024-11-03: 02:00 EDT -> 01:00 EST at 06:00 UTC; 01:30 happens twice.
    EXPECT_EQ(isos(cron("30 1 * * *").next_n(utc(2024, 11, 2, 12), 2, new_york.get())),
              (std::vector<std::string>{"2024-11-03T05:30:00Z", "2024-11-04T06:30:00Z"}));
    EXPECT_EQ(iso(cron("0 0 * * *").next_after(utc(2024, 11, 3, 12), new_york.get())),
              "2024-11-04T05:00:00Z");
}

TEST(cron, lord_howe_half_hour_shift) {
    const auto lord_howe = zone("Australia/Lord_Howe");
    // 2024-10-06 02:00 +1030 -> 02:30 +11: 02:15 does not exist and fires at 02:30 +11.
    EXPECT_EQ(isos(cron("15 2 * * *").next_n(utc(2024, 10, 5), 2, lord_howe.get())),
              (std::vector<std::string>{"2024-10-05T15:30:00Z", "2024-10-06T15:15:00Z"}));
    // 2024-04-07 02:00 +11 -> 01:30 +1030: 01:45 happens twice, fires once.
    EXPECT_EQ(isos(cron("45 1 * * *").next_n(utc(2024, 4, 6), 2, lord_howe.get())),
              (std::vector<std::string>{"2024-04-06T14:45:00Z", "2024-04-07T15:15:00Z"}));
    // The half hour that is not skipped still fires normally.
    EXPECT_EQ(iso(cron("45 2 * * *").next_after(utc(2024, 10, 5), lord_howe.get())), "2024-10-05T15:45:00Z");
}

TEST(cron, matches_agrees_with_next_after) {
    const auto expr = cron("5,35 */3 1-10,20 * MON-WED");
    auto t = utc(2024, 1, 1);
    for (int i = 0; i < 200; ++i) {
        const auto next = expr.next_after(t);
        ASSERT_TRUE(next);
        EXPECT_TRUE(expr.matches(
            std::chrono::local_seconds(std::chrono::floor<std::chrono::seconds>(*next).time_since_epoch())));
        // Nothing in between matches.
        for (auto m = std::chrono::floor<std::chrono::minutes>(t) + 1min; m < *next; m += 1min) {
            ASSERT_FALSE(expr.matches(std::chrono::local_seconds(m.time_since_epoch()))) << iso(m);
        }
        t = *next;
    }
}

TEST(cron, default_constructed_never_fires) {
    const cron_expression empty;
    EXPECT_FALSE(empty.next_after(utc(2024, 1, 1)).has_value());
    EXPECT_FALSE(empty.matches(local(2024, 1, 1)));
}

}  // namespace
}  // namespace atlas_restored::schedule
