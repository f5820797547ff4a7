#include "schedule/time_zone.hpp"

#include "support/temp_dir.hpp"
#include "test_time.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace atlas_restored::schedule {
namespace {

using namespace std::chrono_literals;
using test::iso;
using test::local;
using test::utc;
using test::zone;

std::string read_bytes(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// A TZif file built by hand, so the parser is tested on inputs we control, not only on the
// installed tzdata.
struct tzif_type {
    std::int32_t offset;
    bool is_dst;
    std::string abbreviation;
};

void put32(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out += static_cast<char>((v >> shift) & 0xff);
    }
}
void put64(std::string& out, std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) {
        out += static_cast<char>((v >> shift) & 0xff);
    }
}

std::string block(char version,
                  int time_size,
                  const std::vector<std::pair<std::int64_t, std::uint8_t>>& transitions,
                  const std::vector<tzif_type>& types) {
    std::string chars;
    std::vector<std::size_t> index;
    for (const auto& t : types) {
        index.push_back(chars.size());
        chars += t.abbreviation;
        chars += '\0';
    }
    std::string out = "TZif";
    out += version;
    out += std::string(15, '\0');
    put32(out, 0);  // isutcnt
    put32(out, 0);  // isstdcnt
    put32(out, 0);  // leapcnt
    put32(out, static_cast<std::uint32_t>(transitions.size()));
    put32(out, static_cast<std::uint32_t>(types.size()));
    put32(out, static_cast<std::uint32_t>(chars.size()));
    for (const auto& [at, type] : transitions) {
        if (time_size == 8) {
            put64(out, static_cast<std::uint64_t>(at));
        } else {
            put32(out, static_cast<std::uint32_t>(static_cast<std::int32_t>(at)));
        }
    }
    for (const auto& [at, type] : transitions) {
        out += static_cast<char>(type);
    }
    for (std::size_t i = 0; i < types.size(); ++i) {
        put32(out, static_cast<std::uint32_t>(types[i].offset));
        out += static_cast<char>(types[i].is_dst ? 1 : 0);
        out += static_cast<char>(index[i]);
    }
    return out + chars;
}

std::string build_tzif(const std::vector<std::pair<std::int64_t, std::uint8_t>>& transitions,
                       const std::vector<tzif_type>& types,
                       const std::string& footer) {
    // Version 2 with an empty version-1 block, as zic's "slim" output does.
    return block('2', 4, {}, {types.front()}) + block('2', 8, transitions, types) + "\n" + footer + "\n";
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

TEST(time_zone, utc_is_always_available) {
    const auto z = time_zone::utc();
    EXPECT_EQ(z->name(), "UTC");
    EXPECT_EQ(z->offset_at(utc(2024, 7, 1)), 0s);
    auto loaded = time_zone::load("UTC", "/nonexistent-zoneinfo");
    ASSERT_TRUE(loaded);
    EXPECT_EQ((*loaded)->offset_at(utc(2024, 1, 1)), 0s);
    const auto conversion = z->to_sys(local(2024, 3, 31, 2, 30));
    EXPECT_EQ(conversion.kind, local_kind::unique);
    EXPECT_EQ(iso(conversion.first), "2024-03-31T02:30:00Z");
}

TEST(time_zone, known_offsets_of_real_zones) {
    const auto berlin = zone("Europe/Berlin");
    EXPECT_EQ(berlin->offset_at(utc(2024, 1, 15, 12)), 3600s);
    EXPECT_EQ(berlin->offset_at(utc(2024, 7, 15, 12)), 7200s);
    EXPECT_EQ(berlin->info_at(utc(2024, 7, 15)).abbreviation, "CEST");
    EXPECT_TRUE(berlin->info_at(utc(2024, 7, 15)).is_dst);
    EXPECT_EQ(berlin->info_at(utc(2024, 1, 15)).abbreviation, "CET");
    EXPECT_FALSE(berlin->info_at(utc(2024, 1, 15)).is_dst);
    // The exact 2024 transitions: 01:00 UTC on the last Sundays of March and October.
    EXPECT_EQ(berlin->offset_at(utc(2024, 3, 31, 0, 59, 59)), 3600s);
    EXPECT_EQ(berlin->offset_at(utc(2024, 3, 31, 1)), 7200s);
    EXPECT_EQ(berlin->offset_at(utc(2024, 10, 27, 0, 59, 59)), 7200s);
    EXPECT_EQ(berlin->offset_at(utc(2024, 10, 27, 1)), 3600s);
    // Before railway time: local mean time, +0:53:28.
    EXPECT_EQ(berlin->offset_at(utc(1880, 1, 1)), 3208s);

    const auto new_york = zone("America/New_York");
    EXPECT_EQ(new_york->offset_at(utc(2024, 1, 15)), -5h);
    EXPECT_EQ(new_york->offset_at(utc(2024, 3, 10, 6, 59, 59)), -5h);
    EXPECT_EQ(new_york->offset_at(utc(2024, 3, 10, 7)), -4h);
    EXPECT_EQ(new_york->offset_at(utc(2024, 11, 3, 5, 59, 59)), -4h);
    EXPECT_EQ(new_york->offset_at(utc(2024, 11, 3, 6)), -5h);

    const auto lord_howe = zone("Australia/Lord_Howe");  // DST is 30 minutes
    EXPECT_EQ(lord_howe->offset_at(utc(2024, 1, 15)), 11h);
    EXPECT_EQ(lord_howe->offset_at(utc(2024, 7, 15)), 10h + 30min);
    EXPECT_EQ(lord_howe->offset_at(utc(2024, 10, 5, 15, 29, 59)), 10h + 30min);
    EXPECT_EQ(lord_howe->offset_at(utc(2024, 10, 5, 15, 30)), 11h);
    EXPECT_EQ(lord_howe->info_at(utc(2024, 1, 15)).abbreviation, "+11");

    EXPECT_EQ(zone("Asia/Kolkata")->offset_at(utc(2024, 6, 1)), 5h + 30min);
    EXPECT_EQ(zone("Etc/GMT+5")->offset_at(utc(2024, 6, 1)), -5h);  // POSIX sign convention
}

TEST(time_zone, footer_rule_extrapolates_far_beyond_the_last_transition) {
    // Installed files list transitions up to 2037 at most; 2090 comes from the POSIX footer.
    const auto berlin = zone("Europe/Berlin");
    EXPECT_EQ(berlin->offset_at(utc(2090, 3, 26, 0, 59, 59)), 1h);
    EXPECT_EQ(berlin->offset_at(utc(2090, 3, 26, 1)), 2h);
    EXPECT_EQ(berlin->offset_at(utc(2090, 10, 29, 0, 59, 59)), 2h);
    EXPECT_EQ(berlin->offset_at(utc(2090, 10, 29, 1)), 1h);
    EXPECT_EQ(berlin->info_at(utc(2090, 7, 1)).abbreviation, "CEST");

    const auto new_york = zone("America/New_York");
    EXPECT_EQ(new_york->offset_at(utc(2090, 3, 12, 6, 59, 59)), -5h);
    EXPECT_EQ(new_york->offset_at(utc(2090, 3, 12, 7)), -4h);
    EXPECT_EQ(new_york->offset_at(utc(2090, 11, 5, 5, 59, 59)), -4h);
    EXPECT_EQ(new_york->offset_at(utc(2090, 11, 5, 6)), -5h);

    const auto lord_howe = zone("Australia/Lord_Howe");  // southern hemisphere: DST spans new year
    EXPECT_EQ(lord_howe->offset_at(utc(2090, 4, 1, 14, 59, 59)), 11h);
    EXPECT_EQ(lord_howe->offset_at(utc(2090, 4, 1, 15)), 10h + 30min);
    EXPECT_EQ(lord_howe->offset_at(utc(2090, 9, 30, 15, 29, 59)), 10h + 30min);
    EXPECT_EQ(lord_howe->offset_at(utc(2090, 9, 30, 15, 30)), 11h);
    EXPECT_EQ(lord_howe->offset_at(utc(2090, 12, 31, 23)), 11h);
}

TEST(time_zone, local_time_in_a_gap_is_nonexistent) {
    const auto berlin = zone("Europe/Berlin");
    const auto c = berlin->to_sys(local(2024, 3, 31, 2, 30));
    EXPECT_EQ(c.kind, local_kind::nonexistent);
    EXPECT_EQ(iso(c.first), "2024-03-31T01:00:00Z");  // 03:00 CEST, the end of the gap
    EXPECT_EQ(berlin->to_sys(local(2024, 3, 31, 2, 0)).kind, local_kind::nonexistent);
    EXPECT_EQ(berlin->to_sys(local(2024, 3, 31, 1, 59, 59)).kind, local_kind::unique);
    EXPECT_EQ(berlin->to_sys(local(2024, 3, 31, 3, 0)).kind, local_kind::unique);
    EXPECT_EQ(iso(berlin->to_sys(local(2024, 3, 31, 3, 0)).first), "2024-03-31T01:00:00Z");

    const auto far = berlin->to_sys(local(2090, 3, 26, 2, 30));
    EXPECT_EQ(far.kind, local_kind::nonexistent);
    EXPECT_EQ(iso(far.first), "2090-03-26T01:00:00Z");

    const auto new_york = zone("America/New_York")->to_sys(local(2024, 3, 10, 2, 30));
    EXPECT_EQ(new_york.kind, local_kind::nonexistent);
    EXPECT_EQ(iso(new_york.first), "2024-03-10T07:00:00Z");

    const auto lord_howe = zone("Australia/Lord_Howe")->to_sys(local(2024, 10, 6, 2, 15));
    EXPECT_EQ(lord_howe.kind, local_kind::nonexistent);
    EXPECT_EQ(iso(lord_howe.first), "2024-10-05T15:30:00Z");  // 02:30 +11
}

TEST(time_zone, repeated_local_time_is_ambiguous_with_both_instants) {
    const auto berlin = zone("Europe/Berlin");
    const auto c = berlin->to_sys(local(2024, 10, 27, 2, 30));
    EXPECT_EQ(c.kind, local_kind::ambiguous);
    EXPECT_EQ(iso(c.first), "2024-10-27T00:30:00Z");
    EXPECT_EQ(iso(c.second), "2024-10-27T01:30:00Z");
    EXPECT_EQ(berlin->to_sys(local(2024, 10, 27, 3, 0)).kind, local_kind::unique);
    EXPECT_EQ(berlin->to_sys(local(2024, 10, 27, 1, 59)).kind, local_kind::unique);

    const auto new_york = zone("America/New_York")->to_sys(local(2024, 11, 3, 1, 30));
    EXPECT_EQ(new_york.kind, local_kind::ambiguous);
    EXPECT_EQ(iso(new_york.first), "2024-11-03T05:30:00Z");
    EXPECT_EQ(iso(new_york.second), "2024-11-03T06:30:00Z");

    const auto lord_howe = zone("Australia/Lord_Howe")->to_sys(local(2024, 4, 7, 1, 45));
    EXPECT_EQ(lord_howe.kind, local_kind::ambiguous);
    EXPECT_EQ(iso(lord_howe.first), "2024-04-06T14:45:00Z");
    EXPECT_EQ(iso(lord_howe.second), "2024-04-06T15:15:00Z");
}

TEST(time_zone, unique_local_times_round_trip) {
    for (const char* name : {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"}) {
        const auto z = zone(name);
        for (int month = 1; month <= 12; ++month) {
            const auto t = utc(2031, static_cast<unsigned>(month), 10, 13, 7);
            const auto c = z->to_sys(z->to_local(t));
            EXPECT_EQ(c.kind, local_kind::unique) << name;
            EXPECT_EQ(iso(c.first), iso(t)) << name;
        }
    }
}

TEST(time_zone, load_refuses_unsafe_and_unknown_names) {
    for (const char* name : {"",
                             "/etc/passwd",
                             "../../../etc/passwd",
                             "Europe/../../../../etc/passwd",
                             "Europe/./Berlin",
                             "Europe//Berlin",
                             "Europe/Berlin/",
                             "Europe/Berlin\n",
                             "Nowhere/Atlantis",
                             "Europe",
                             "zone.tab"}) {
        auto loaded = time_zone::load(name);
        ASSERT_FALSE(loaded) << name;
        EXPECT_EQ(loaded.error().code, errc::invalid_input);
        EXPECT_EQ(loaded.error().message, "unknown time zone '" + std::string(name) + "'");
    }
}

TEST(time_zone, load_reads_a_hand_built_file_from_another_directory) {
    testing::temp_dir dir;
    // UTC+2 until 2000-01-01, then UTC-3 with a footer for the years after.
    testing::write_file(
        dir / "Test/Zone",
        build_tzif({{946684800, 1}}, {{7200, false, "AAA"}, {-10800, false, "BBB"}}, "<-03>3"));
    auto loaded = time_zone::load("Test/Zone", dir.path());
    ASSERT_TRUE(loaded) << loaded.error().message;
    const auto& z = **loaded;
    EXPECT_EQ(z.name(), "Test/Zone");
    EXPECT_EQ(z.offset_at(utc(1999, 12, 31, 23, 59, 59)), 2h);
    EXPECT_EQ(z.offset_at(utc(2000, 1, 1)), -3h);
    EXPECT_EQ(z.offset_at(utc(2100, 6, 1)), -3h);
    EXPECT_EQ(z.info_at(utc(1990, 1, 1)).abbreviation, "AAA");
    EXPECT_EQ(z.info_at(utc(2000, 1, 1)).abbreviation, "BBB");
    EXPECT_EQ(z.info_at(utc(2010, 1, 1)).abbreviation, "-03");  // from the footer

    testing::write_file(dir / "Bad/Zone", "TZif2 but then nothing useful");
    auto bad = time_zone::load("Bad/Zone", dir.path());
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, errc::invalid_input);
    EXPECT_NE(bad.error().message.find("malformed TZif"), std::string::npos) << bad.error().message;
}

TEST(time_zone, slim_file_with_footer_only_after_its_transitions) {
    // One transition in 2020 and a northern-hemisphere rule afterwards.
    const auto bytes = build_tzif({{unix_seconds(utc(2020, 1, 1)), 1}},
                                  {{0, false, "LMT"}, {3600, false, "CET"}},
                                  "CET-1CEST,M3.5.0,M10.5.0/3");
    auto z = time_zone::from_tzif("Slim/Zone", bytes);
    ASSERT_TRUE(z) << z.error().message;
    EXPECT_EQ((*z)->offset_at(utc(2019, 6, 1)), 0s);  // before the first transition: type 0
    EXPECT_EQ((*z)->offset_at(utc(2020, 1, 1)), 1h);
    EXPECT_EQ((*z)->offset_at(utc(2020, 7, 1)), 2h);
    EXPECT_EQ((*z)->offset_at(utc(2024, 3, 31, 0, 59, 59)), 1h);
    EXPECT_EQ((*z)->offset_at(utc(2024, 3, 31, 1)), 2h);
    const auto gap = (*z)->to_sys(local(2024, 3, 31, 2, 30));
    EXPECT_EQ(gap.kind, local_kind::nonexistent);
    EXPECT_EQ(iso(gap.first), "2024-03-31T01:00:00Z");
}

TEST(time_zone, version_1_file_without_footer) {
    const auto bytes =
        block('\0', 4, {{-100000, 1}, {1000000000, 0}}, {{3600, false, "ONE"}, {7200, true, "TWO"}});
    auto z = time_zone::from_tzif("V1/Zone", bytes);
    ASSERT_TRUE(z) << z.error().message;
    EXPECT_EQ((*z)->offset_at(utc(1969, 1, 1)), 1h);
    EXPECT_EQ((*z)->offset_at(utc(1990, 1, 1)), 2h);
    EXPECT_TRUE((*z)->info_at(utc(1990, 1, 1)).is_dst);
    EXPECT_EQ((*z)->offset_at(utc(2090, 1, 1)), 1h);  // the last type stays in force
}

TEST(time_zone, posix_strings) {
    auto eastern = time_zone::from_posix("Eastern", "EST5EDT,M3.2.0,M11.1.0");
    ASSERT_TRUE(eastern);
    EXPECT_EQ((*eastern)->offset_at(utc(2024, 3, 10, 6, 59, 59)), -5h);
    EXPECT_EQ((*eastern)->offset_at(utc(2024, 3, 10, 7)), -4h);
    EXPECT_EQ((*eastern)->info_at(utc(2024, 7, 1)).abbreviation, "EDT");

    // Without rules the DST part follows the US default, like tzcode.
    auto defaulted = time_zone::from_posix("Default", "EST5EDT");
    ASSERT_TRUE(defaulted);
    EXPECT_EQ((*defaulted)->offset_at(utc(2024, 7, 1)), -4h);

    // Permanent daylight time, as zic writes it: both transitions cancel out.
    auto permanent = time_zone::from_posix("Permanent", "EST5EDT,0/0,J365/25");
    ASSERT_TRUE(permanent);
    for (unsigned month = 1; month <= 12; ++month) {
        EXPECT_EQ((*permanent)->offset_at(utc(2030, month, 1)), -4h) << month;
    }
    EXPECT_EQ((*permanent)->offset_at(utc(2030, 12, 31, 23, 59)), -4h);
    EXPECT_EQ((*permanent)->offset_at(utc(2031, 1, 1, 5)), -4h);

    // Jn never counts February 29; n does.
    auto julian = time_zone::from_posix("Julian", "AAA0BBB,J60/0,J300/0");
    ASSERT_TRUE(julian);
    EXPECT_EQ((*julian)->offset_at(utc(2024, 2, 29, 23, 59)), 0s);
    EXPECT_EQ((*julian)->offset_at(utc(2024, 3, 1, 0)), 1h);
    auto zero_based = time_zone::from_posix("Zero", "AAA0BBB,59/0,300/0");
    ASSERT_TRUE(zero_based);
    EXPECT_EQ((*zero_based)->offset_at(utc(2024, 2, 29, 12)), 1h);  // day 59 of a leap year
    EXPECT_EQ((*zero_based)->offset_at(utc(2023, 2, 28, 12)), 0s);

    // Explicit DST offset and negative rule times (RFC 8536 extension).
    auto odd = time_zone::from_posix("Odd", "<-03>3<-02>2,M3.5.0/-2,M10.5.0/-1");
    ASSERT_TRUE(odd);
    EXPECT_EQ((*odd)->offset_at(utc(2024, 7, 1)), -2h);
    EXPECT_EQ((*odd)->offset_at(utc(2024, 1, 1)), -3h);
    // Last Sunday of March 2024 is the 31st; -2:00 local standard time is 30th 22:00 -03 = 31st 01:00 UTC.
    EXPECT_EQ((*odd)->offset_at(utc(2024, 3, 31, 0, 59, 59)), -3h);
    EXPECT_EQ((*odd)->offset_at(utc(2024, 3, 31, 1)), -2h);

    EXPECT_EQ((*time_zone::from_posix("Utc", "UTC0"))->offset_at(utc(2024, 7, 1)), 0s);

    for (const char* bad : {"",
                            "5",
                            "EST",
                            "ES5",
                            "EST5EDT,M13.1.0,M11.1.0",
                            "EST5EDT,M3.2.0",
                            "EST5EDT,M3.6.0,M11.1.0",
                            "EST5EDT,M3.2.7,M11.1.0",
                            "EST5EDT,J0,J100",
                            "EST5EDT,366,100",
                            "EST25",
                            "<EST5",
                            "EST5EDT,M3.2.0/168,M11.1.0",
                            "EST5EDT,M3.2.0,M11.1.0x"}) {
        auto z = time_zone::from_posix("Bad", bad);
        EXPECT_FALSE(z) << bad;
        if (!z) {
            EXPECT_EQ(z.error().code, errc::invalid_input);
        }
    }
}

TEST(time_zone, malformed_tzif_is_refused) {
    const std::vector<tzif_type> types = {{0, false, "AAA"}, {3600, true, "BBB"}};
    struct bad_case {
        const char* what;
        std::string bytes;
    };
    const std::string with_footer = build_tzif({}, types, "CET-1");
    std::vector<bad_case> cases = {
        {"empty", ""},
        {"bad magic", "TZxf" + build_tzif({}, types, "").substr(4)},
        {"unknown version", build_tzif({}, types, "").replace(4, 1, "1")},
        {"transition type out of range", build_tzif({{100, 2}}, types, "")},
        {"transitions not ascending", build_tzif({{200, 1}, {100, 0}}, types, "")},
        {"duplicate transition", build_tzif({{100, 1}, {100, 0}}, types, "")},
        {"offset beyond 26 hours", build_tzif({}, {{100000, false, "AAA"}}, "")},
        {"bad footer", build_tzif({}, types, "not a rule")},
        {"footer without closing newline", with_footer.substr(0, with_footer.size() - 1)},
        {"truncated", build_tzif({{100, 1}}, types, "").substr(0, 100)},
    };
    // Counts that promise far more data than the file holds (timecnt = 0xffffffff).
    std::string huge = build_tzif({}, types, "");
    for (int i = 0; i < 4; ++i) {
        huge[32 + i] = '\xff';
    }
    cases.push_back({"huge count", huge});
    // No local time types at all.
    std::string zero_types = build_tzif({}, types, "");
    for (int i = 0; i < 4; ++i) {
        zero_types[36 + i] = 0;
    }
    cases.push_back({"no types", zero_types});
    // An abbreviation index past the abbreviation characters (second block's first type).
    std::string bad_index = block('\0', 4, {}, {{0, false, "AAA"}});
    bad_index[44 + 5] = 9;
    cases.push_back({"abbreviation index out of range", bad_index});

    for (const auto& c : cases) {
        auto z = time_zone::from_tzif("Bad/Zone", c.bytes);
        EXPECT_FALSE(z) << c.what;
        if (!z) {
            EXPECT_EQ(z.error().code, errc::invalid_input) << c.what;
            EXPECT_NE(z.error().message.find("Bad/Zone"), std::string::npos) << c.what;
        }
    }
}

// Every prefix of a real file and thousands of corrupted copies: no crash, no hang, and when
// the parser accepts the data, the zone answers questions. (ASan builds make this a real check
// of the bounds checks.)
TEST(time_zone, truncated_and_corrupted_files_do_not_crash) {
    const std::string berlin = read_bytes("/usr/share/zoneinfo/Europe/Berlin");
    ASSERT_GT(berlin.size(), 1000U);
    const auto footer_start = berlin.rfind('\n', berlin.size() - 2);
    std::size_t accepted = 0;
    for (std::size_t n = 0; n < berlin.size(); ++n) {
        auto z = time_zone::from_tzif("Europe/Berlin", std::string_view(berlin).substr(0, n));
        if (z) {
            ++accepted;
            EXPECT_EQ((*z)->offset_at(utc(2024, 7, 1)), 2h) << n;
        } else {
            EXPECT_EQ(z.error().code, errc::invalid_input);
        }
    }
    // Only the prefix that ends exactly before the footer is acceptable (footer missing).
    EXPECT_EQ(accepted, 1U);
    EXPECT_TRUE(time_zone::from_tzif("Europe/Berlin", std::string_view(berlin).substr(0, footer_start)));

    std::mt19937_64 random(20240331);
    std::size_t parsed = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string copy = berlin;
        const int flips = 1 + static_cast<int>(random() % 4);
        for (int i = 0; i < flips; ++i) {
            copy[random() % copy.size()] = static_cast<char>(random() & 0xff);
        }
        auto z = time_zone::from_tzif("Fuzz", copy);
        if (!z) {
            continue;
        }
        ++parsed;
        for (const auto t : {utc(1800, 1, 1), utc(2024, 3, 31, 1), utc(2090, 10, 29, 1), utc(2200, 1, 1)}) {
            const auto offset = (*z)->offset_at(t);
            EXPECT_LT(offset, 26h);
            EXPECT_GT(offset, -25h);
            (*z)->to_sys((*z)->to_local(t));
            (*z)->to_sys(local(2024, 3, 31, 2, 30));
        }
    }
    EXPECT_GT(parsed, 0U);  // some corruptions hit bytes that do not matter
}

}  // namespace
}  // namespace atlas_restored::schedule
