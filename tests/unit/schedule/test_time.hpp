#pragma once
// Readable instants for the schedule tests: build them from calendar fields, compare them as
// ISO-8601 strings so a failure shows the time, not a tick count.

#include "schedule/time_zone.hpp"

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace atlas_restored::schedule::test {

inline std::chrono::system_clock::time_point utc(
    int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
    using namespace std::chrono;
    return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

inline std::chrono::local_seconds local(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
    using namespace std::chrono;
    return local_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

inline std::string iso_of(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss<seconds> hms{floor<seconds>(t - day)};
    char text[48];
    std::snprintf(text,
                  sizeof text,
                  "%04d-%02u-%02uT%02d:%02d:%02dZ",
                  static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return text;
}

template <class Duration>
std::string iso(std::chrono::sys_time<Duration> t) {
    return iso_of(std::chrono::time_point_cast<std::chrono::system_clock::duration>(t));
}

inline std::string iso(const std::optional<std::chrono::system_clock::time_point>& t) {
    return t ? iso_of(*t) : std::string("none");
}

// A zone from the installed tzdata; tests that use one fail (not skip) without tzdata, which the
// daemon needs as well.
inline std::shared_ptr<const time_zone> zone(const char* name) {
    auto loaded = time_zone::load(name);
    if (!loaded) {
        throw std::runtime_error(loaded.error().message);
    }
    return *loaded;
}

}  // namespace atlas_restored::schedule::test
