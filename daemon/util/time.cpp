#include "util/time.hpp"

#include <cstdio>

namespace atlas_restored {
namespace {

bool take_digits(std::string_view& text, std::size_t count, int& out) {
    if (text.size() < count) {
        return false;
    }
    int value = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const char c = text[i];
        if (c < '0' || c > '9') {
            return false;
        }
        value = value * 10 + (c - '0');
    }
    out = value;
    text.remove_prefix(count);
    return true;
}

bool take_char(std::string_view& text, char expected) {
    if (text.empty() || text.front() != expected) {
        return false;
    }
    text.remove_prefix(1);
    return true;
}

}  // namespace

std::optional<sys_time> parse_iso8601(std::string_view text) {
    using namespace std::chrono;
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!take_digits(text, 4, year) || !take_char(text, '-') || !take_digits(text, 2, month) ||
        !take_char(text, '-') || !take_digits(text, 2, day) || !take_char(text, 'T') ||
        !take_digits(text, 2, hour) || !take_char(text, ':') || !take_digits(text, 2, minute) ||
        !take_char(text, ':') || !take_digits(text, 2, second)) {
        return std::nullopt;
    }
    const year_month_day date{std::chrono::year{year},
                              std::chrono::month{static_cast<unsigned>(month)},
                              std::chrono::day{static_cast<unsigned>(day)}};
    if (year < 1 || !date.ok() || hour > 23 || minute > 59 || second > 59) {
        return std::nullopt;
    }
    nanoseconds fraction{0};
    if (!text.empty() && text.front() == '.') {
        text.remove_prefix(1);
        std::size_t digits = 0;
        std::int64_t value = 0;
        while (!text.empty() && text.front() >= '0' && text.front() <= '9') {
            if (digits < 9) {
                value = value * 10 + (text.front() - '0');
            }
            ++digits;
            text.remove_prefix(1);
        }
        if (digits == 0 || digits > 9) {
            return std::nullopt;
        }
        for (std::size_t i = digits; i < 9; ++i) {
            value *= 10;
        }
        fraction = nanoseconds{value};
    }
    seconds offset{0};
    if (take_char(text, 'Z')) {
        // UTC
    } else if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
        const int sign = text.front() == '-' ? -1 : 1;
        text.remove_prefix(1);
        int oh = 0, om = 0;
        if (!take_digits(text, 2, oh) || !take_char(text, ':') || !take_digits(text, 2, om) || oh > 23 ||
            om > 59) {
            return std::nullopt;
        }
        offset = seconds{sign * (oh * 3600 + om * 60)};
    } else {
        return std::nullopt;
    }
    if (!text.empty()) {
        return std::nullopt;
    }
    const auto local = sys_days{date} + hours{hour} + minutes{minute} + seconds{second};
    return time_point_cast<system_clock::duration>(local - offset + fraction);
}

std::string format_iso8601(sys_time t, bool millis) {
    using namespace std::chrono;
    const auto day_start = floor<days>(t);
    const year_month_day date{day_start};
    const hh_mm_ss time{floor<milliseconds>(t - day_start)};
    char buffer[40];
    if (millis) {
        std::snprintf(buffer,
                      sizeof buffer,
                      "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                      static_cast<int>(date.year()),
                      static_cast<unsigned>(date.month()),
                      static_cast<unsigned>(date.day()),
                      static_cast<int>(time.hours().count()),
                      static_cast<int>(time.minutes().count()),
                      static_cast<int>(time.seconds().count()),
                      static_cast<int>(time.subseconds().count()));
    } else {
        std::snprintf(buffer,
                      sizeof buffer,
                      "%04d-%02u-%02uT%02d:%02d:%02dZ",
                      static_cast<int>(date.year()),
                      static_cast<unsigned>(date.month()),
                      static_cast<unsigned>(date.day()),
                      static_cast<int>(time.hours().count()),
                      static_cast<int>(time.minutes().count()),
                      static_cast<int>(time.seconds().count()));
    }
    return buffer;
}

std::int64_t to_unix_millis(sys_time t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

sys_time from_unix_millis(std::int64_t millis) {
    return sys_time{std::chrono::duration_cast<sys_time::duration>(std::chrono::milliseconds{millis})};
}

}  // namespace atlas_restored
