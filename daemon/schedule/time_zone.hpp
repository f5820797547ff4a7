#pragma once
// IANA time zones read from TZif files (RFC 8536, versions 1 to 4), because g++ 12's libstdc++ has
// no std::chrono::tzdb. The 64-bit section is used when present; times after the last transition
// follow the footer's POSIX TZ string (e.g. "CET-1CEST,M3.5.0,M10.5.0/3"), so a zone answers
// correctly for 2090 whether the installed file is "fat" (transitions to 2037) or "slim".
// Leap-second records ("right/" zones) are skipped: civil time here is POSIX time.
//
// Parsing never trusts the file: every count and index is bounds-checked, so a truncated or
// hostile file yields an error, not a crash.

#include "util/error.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace atlas_restored::schedule {

// What a local (wall-clock) time corresponds to in UTC.
enum class local_kind {
    unique,       // exactly one instant
    nonexistent,  // skipped by a forward transition (a DST gap)
    ambiguous,    // repeated by a backward transition: two instants
};

struct local_conversion {
    local_kind kind = local_kind::unique;
    // unique: the instant. ambiguous: the earlier instant. nonexistent: the first valid instant
    // after the gap, i.e. the transition itself (02:30 on Berlin's spring-forward day -> 03:00).
    std::chrono::sys_seconds first{};
    // ambiguous: the later instant; otherwise equal to `first`.
    std::chrono::sys_seconds second{};
};

// The rules in force at one instant.
struct zone_info {
    std::chrono::seconds offset{0};  // local = UTC + offset
    bool is_dst = false;
    std::string abbreviation;  // "CEST", "+1030"; may be empty for hand-made files
};

class time_zone {
  public:
    // Loads zoneinfo_dir/name. Names must be relative IANA names ("Europe/Berlin"): empty names,
    // absolute paths, "." or ".." components and unusual characters are refused as unknown.
    // "UTC" always works, even without tzdata. Errors are errc::invalid_input: "unknown time
    // zone 'X'" when there is no such file, or a message naming the defect of a malformed file.
    static result<std::shared_ptr<const time_zone>> load(
        std::string_view name, const std::filesystem::path& zoneinfo_dir = "/usr/share/zoneinfo");

    // Builds a zone from the bytes of a TZif file (what load() reads). For tests and fuzzing.
    static result<std::shared_ptr<const time_zone>> from_tzif(std::string name, std::string_view bytes);

    // Builds a zone from a POSIX TZ string alone ("EST5EDT,M3.2.0,M11.1.0").
    static result<std::shared_ptr<const time_zone>> from_posix(std::string name, std::string_view tz);

    static std::shared_ptr<const time_zone> utc();

    const std::string& name() const { return name_; }

    std::chrono::seconds offset_at(std::chrono::system_clock::time_point t) const;
    zone_info info_at(std::chrono::system_clock::time_point t) const;

    // Wall-clock time at an instant (sub-second part dropped).
    std::chrono::local_seconds to_local(std::chrono::system_clock::time_point t) const;

    // Wall-clock time -> UTC, reporting gaps and repeats.
    local_conversion to_sys(std::chrono::local_seconds local) const;

    // Implementation types, public only so the .cpp's free helpers can name them.
    struct type_info {
        std::int32_t offset = 0;  // seconds east of UTC
        bool is_dst = false;
        std::string abbreviation;
    };
    struct transition {
        std::int64_t at = 0;     // UTC seconds
        std::uint32_t type = 0;  // index into types_
    };
    struct rule_date {
        enum class form { julian_no_leap, julian_zero, month_week_day } kind = form::month_week_day;
        int day = 0;  // Jn: 1-365; n: 0-365; Mm.w.d: weekday 0-6
        int month = 0;
        int week = 0;
        std::int32_t time = 7200;  // seconds after local midnight, may be negative or > 24h (v3)
    };
    struct posix_rule {
        type_info standard;
        bool has_dst = false;
        type_info daylight;
        rule_date start;  // std -> dst, `time` in standard time
        rule_date end;    // dst -> std, `time` in daylight time
    };
    // A transition produced by the rules: at `at` the offset becomes `to`.
    struct change {
        std::int64_t at = 0;
        const type_info* to = nullptr;
    };

  private:
    time_zone() = default;

    const type_info& type_at(std::int64_t t) const;
    // All offset changes in [from, to], explicit and from the footer rule, in time order.
    std::vector<change> changes_between(std::int64_t from, std::int64_t to) const;

    std::string name_;
    std::vector<type_info> types_;
    std::vector<transition> transitions_;
    bool has_footer_ = false;
    posix_rule footer_;
};

}  // namespace atlas_restored::schedule
