#include "schedule/duration.hpp"

#include <array>
#include <cstdint>

namespace atlas_restored::schedule {
namespace {

struct unit {
    std::string_view suffix;
    std::int64_t ms;
};
// Largest first; "ms" before "m" would matter only for matching, which compares whole suffixes.
constexpr std::array<unit, 5> units = {{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};
constexpr std::int64_t max_ms = 36500LL * 86'400'000;
constexpr std::string_view allowed = "allowed units: ms, s, m, h, d (e.g. 30s, 5m, 1h30m)";

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

}  // namespace

result<std::chrono::milliseconds> parse_duration(std::string_view text) {
    auto fail = [&](const std::string& why) -> result<std::chrono::milliseconds> {
        if (text.empty()) {
            return make_error(errc::invalid_input, "empty duration; " + std::string(allowed));
        }
        return make_error(
            errc::invalid_input,
            "'" + std::string(text) + "' is not a duration: " + why + "; " + std::string(allowed));
    };
    if (text.empty()) {
        return fail("");
    }
    if (text.front() == '-') {
        return fail("it cannot be negative");
    }
    std::int64_t total = 0;
    std::size_t next_unit = 0;  // index into units: later parts must use smaller units
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t number_start = pos;
        std::int64_t value = 0;
        while (pos < text.size() && is_digit(text[pos])) {
            value = value * 10 + (text[pos] - '0');
            if (value > max_ms) {
                return fail("it is longer than 36500d");
            }
            ++pos;
        }
        if (pos == number_start) {
            if (text[pos] == '.' || text[pos] == ',') {
                return fail("use whole numbers (e.g. 1h30m)");
            }
            return fail("expected a whole number before each unit");
        }
        if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
            return fail("use whole numbers (e.g. 1h30m)");
        }
        const std::size_t unit_start = pos;
        while (pos < text.size() && is_letter(text[pos])) {
            ++pos;
        }
        const auto suffix = text.substr(unit_start, pos - unit_start);
        if (suffix.empty()) {
            if (pos == text.size()) {
                return fail("a number needs a unit");
            }
            return fail("unexpected '" + std::string(1, text[pos]) + "'");
        }
        std::size_t index = 0;
        while (index < units.size() && units[index].suffix != suffix) {
            ++index;
        }
        if (index == units.size()) {
            return fail("unknown unit '" + std::string(suffix) + "'");
        }
        if (index < next_unit) {
            return fail("units must go from the largest to the smallest, each once");
        }
        next_unit = index + 1;
        if (value > max_ms / units[index].ms || total + value * units[index].ms > max_ms) {
            return fail("it is longer than 36500d");
        }
        total += value * units[index].ms;
    }
    return std::chrono::milliseconds(total);
}

std::string format_duration(std::chrono::milliseconds d) {
    std::int64_t ms = d.count();
    if (ms == 0) {
        return "0s";
    }
    std::string out;
    std::uint64_t rest = 0;
    if (ms < 0) {
        out = "-";
        rest = 0 - static_cast<std::uint64_t>(ms);  // well defined for the minimum value too
    } else {
        rest = static_cast<std::uint64_t>(ms);
    }
    for (const auto& u : units) {
        const auto size = static_cast<std::uint64_t>(u.ms);
        if (rest >= size) {
            out += std::to_string(rest / size);
            out += u.suffix;
            rest %= size;
        }
    }
    return out;
}

}  // namespace atlas_restored::schedule
