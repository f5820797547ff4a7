#include "schedule/cron.hpp"

#include "schedule/civil.hpp"
#include "schedule/time_zone.hpp"

#include <array>
#include <cstdint>

namespace atlas_restored::schedule {

struct cron_expression::fields {
    std::uint64_t minutes = 0;   // bit m, 0-59
    std::uint64_t hours = 0;     // bit h, 0-23
    std::uint64_t days = 0;      // bit d, 1-31
    std::uint64_t months = 0;    // bit m, 1-12
    std::uint64_t weekdays = 0;  // bit d, 0-6 (Sunday = 0)
    bool days_star = false;      // the field started with '*'
    bool weekdays_star = false;

    static bool has(std::uint64_t mask, std::int64_t bit) { return (mask >> bit) & 1U; }

    bool day_matches(unsigned day, unsigned weekday) const {
        const bool d = has(days, day);
        const bool w = has(weekdays, weekday);
        // Vixie cron: when both day fields are restricted, either may match.
        return (days_star || weekdays_star) ? (d && w) : (d || w);
    }
};

namespace {

constexpr std::string_view fields_help = "minute hour day-of-month month day-of-week";
constexpr std::array<std::string_view, 12> month_names = {
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> weekday_names = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct field_spec {
    std::string_view name;
    int lo;
    int hi;
    const std::string_view* names;  // nullptr when the field takes numbers only
    std::size_t name_count;
    int first_named;        // the value of names[0]
    std::string_view kind;  // "month" or "weekday", for messages
    std::string_view name_range;
};

constexpr field_spec minute_spec{"minute", 0, 59, nullptr, 0, 0, "", ""};
constexpr field_spec hour_spec{"hour", 0, 23, nullptr, 0, 0, "", ""};
constexpr field_spec day_spec{"day-of-month", 1, 31, nullptr, 0, 0, "", ""};
constexpr field_spec month_spec{"month", 1, 12, month_names.data(), 12, 1, "month", "JAN-DEC"};
constexpr field_spec weekday_spec{"day-of-week", 0, 7, weekday_names.data(), 7, 0, "weekday", "SUN-SAT"};

error field_error(const field_spec& spec, const std::string& what) {
    return make_error(errc::invalid_input, std::string(spec.name) + ": " + what);
}

std::string range_text(const field_spec& spec) {
    return std::to_string(spec.lo) + "-" + std::to_string(spec.hi);
}

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool all_digits(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    for (const char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

result<int> parse_value(const field_spec& spec, std::string_view token) {
    if (all_digits(token)) {
        int value = 0;
        for (const char c : token) {
            value = value * 10 + (c - '0');
            if (value > 1000) {
                break;  // far out of range already; avoids overflow on long inputs
            }
        }
        if (value < spec.lo || value > spec.hi) {
            return field_error(spec, std::string(token) + " is out of range " + range_text(spec));
        }
        return value;
    }
    if (spec.names != nullptr && token.size() == 3) {
        for (std::size_t i = 0; i < spec.name_count; ++i) {
            const auto name = spec.names[i];
            if (lower(token[0]) == name[0] && lower(token[1]) == name[1] && lower(token[2]) == name[2]) {
                return spec.first_named + static_cast<int>(i);
            }
        }
    }
    if (spec.names != nullptr) {
        return field_error(spec,
                           "'" + std::string(token) + "' is not a " + std::string(spec.kind) + " (" +
                               std::string(spec.name_range) + " or " + range_text(spec) + ")");
    }
    if (token.empty()) {
        return field_error(spec, "missing number (allowed " + range_text(spec) + ")");
    }
    return field_error(spec, "'" + std::string(token) + "' is not a number " + range_text(spec));
}

// One comma-separated element: *, a, a-b, */n, a-b/n, a/n.
result<std::uint64_t> parse_element(const field_spec& spec, std::string_view element) {
    std::string_view base = element;
    int step = 1;
    bool has_step = false;
    if (const auto slash = element.find('/'); slash != std::string_view::npos) {
        base = element.substr(0, slash);
        const auto step_text = element.substr(slash + 1);
        const int max_step = spec.hi - spec.lo + 1;
        if (!all_digits(step_text)) {
            return field_error(spec,
                               "step '" + std::string(step_text) + "' in '" + std::string(element) +
                                   "' is not a number 1-" + std::to_string(max_step));
        }
        step = 0;
        for (const char c : step_text) {
            step = step * 10 + (c - '0');
            if (step > 1000) {
                break;
            }
        }
        if (step < 1 || step > max_step) {
            return field_error(
                spec, "step " + std::string(step_text) + " is out of range 1-" + std::to_string(max_step));
        }
        has_step = true;
    }
    int lo = 0;
    int hi = 0;
    if (base == "*") {
        lo = spec.lo;
        hi = spec.hi;
    } else if (const auto dash = base.find('-'); dash != std::string_view::npos) {
        auto first = parse_value(spec, base.substr(0, dash));
        if (!first) {
            return first.error();
        }
        auto last = parse_value(spec, base.substr(dash + 1));
        if (!last) {
            return last.error();
        }
        lo = *first;
        hi = *last;
        if (hi < lo) {
            return field_error(spec,
                               "range " + std::string(base) +
                                   " goes backwards (ranges do not wrap around; allowed " + range_text(spec) +
                                   ")");
        }
    } else {
        auto value = parse_value(spec, base);
        if (!value) {
            return value.error();
        }
        lo = *value;
        hi = has_step ? spec.hi : *value;  // "a/n": from a to the end of the field, every n
    }
    std::uint64_t mask = 0;
    for (int v = lo; v <= hi; v += step) {
        mask |= std::uint64_t{1} << v;
    }
    return mask;
}

result<std::uint64_t> parse_field(const field_spec& spec, std::string_view text) {
    std::uint64_t mask = 0;
    std::size_t begin = 0;
    while (true) {
        const auto comma = text.find(',', begin);
        const auto element = text.substr(begin, comma == std::string_view::npos ? comma : comma - begin);
        if (element.empty()) {
            return field_error(spec, "empty list element in '" + std::string(text) + "'");
        }
        auto bits = parse_element(spec, element);
        if (!bits) {
            return bits.error();
        }
        mask |= *bits;
        if (comma == std::string_view::npos) {
            return mask;
        }
        begin = comma + 1;
    }
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view expand_macro(std::string_view text) {
    struct macro {
        std::string_view name;
        std::string_view expansion;
    };
    static constexpr std::array<macro, 7> macros = {{
        {"@hourly", "0 * * * *"},
        {"@daily", "0 0 * * *"},
        {"@midnight", "0 0 * * *"},
        {"@weekly", "0 0 * * 0"},
        {"@monthly", "0 0 1 * *"},
        {"@yearly", "0 0 1 1 *"},
        {"@annually", "0 0 1 1 *"},
    }};
    for (const auto& m : macros) {
        if (m.name.size() == text.size()) {
            bool equal = true;
            for (std::size_t i = 0; i < text.size(); ++i) {
                equal = equal && lower(text[i]) == m.name[i];
            }
            if (equal) {
                return m.expansion;
            }
        }
    }
    return {};
}

std::int64_t seconds_of(std::chrono::system_clock::time_point t) {
    return std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
}

}  // namespace

result<cron_expression> cron_expression::parse(std::string_view text) {
    while (!text.empty() && is_space(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_space(text.back())) {
        text.remove_suffix(1);
    }
    if (text.empty()) {
        return make_error(errc::invalid_input,
                          "empty cron expression; expected 5 fields (" + std::string(fields_help) + ")");
    }
    std::string_view body = text;
    if (text.front() == '@') {
        body = expand_macro(text);
        if (body.empty()) {
            return make_error(errc::invalid_input,
                              "unknown cron macro '" + std::string(text) +
                                  "'; allowed: @hourly, @daily, @weekly, @monthly, @yearly");
        }
    }

    std::array<std::string_view, 5> parts;
    std::size_t count = 0;
    std::size_t pos = 0;
    while (pos < body.size()) {
        while (pos < body.size() && is_space(body[pos])) {
            ++pos;
        }
        if (pos == body.size()) {
            break;
        }
        const auto begin = pos;
        while (pos < body.size() && !is_space(body[pos])) {
            ++pos;
        }
        if (count < parts.size()) {
            parts[count] = body.substr(begin, pos - begin);
        }
        ++count;
    }
    if (count != 5) {
        return make_error(
            errc::invalid_input,
            "expected 5 fields (" + std::string(fields_help) + "), got " + std::to_string(count));
    }

    auto f = std::make_shared<fields>();
    const std::array<const field_spec*, 5> specs = {
        &minute_spec, &hour_spec, &day_spec, &month_spec, &weekday_spec};
    std::array<std::uint64_t*, 5> targets = {&f->minutes, &f->hours, &f->days, &f->months, &f->weekdays};
    for (std::size_t i = 0; i < 5; ++i) {
        auto mask = parse_field(*specs[i], parts[i]);
        if (!mask) {
            return mask.error();
        }
        *targets[i] = *mask;
    }
    if (fields::has(f->weekdays, 7)) {  // 7 is Sunday too
        f->weekdays = (f->weekdays & ~(std::uint64_t{1} << 7)) | 1U;
    }
    f->days_star = parts[2].front() == '*';
    f->weekdays_star = parts[4].front() == '*';

    cron_expression out;
    out.text_ = std::string(text);
    out.fields_ = std::move(f);
    return out;
}

bool cron_expression::matches(std::chrono::local_seconds local) const {
    if (!fields_) {
        return false;  // a default-constructed expression matches nothing
    }
    const std::int64_t s = local.time_since_epoch().count();
    const std::int64_t day = civil::floor_div(s, 86400);
    const std::int64_t second_of_day = s - day * 86400;
    const auto date = civil::civil_from_days(day);
    return fields::has(fields_->months, date.month) &&
           fields_->day_matches(date.day, civil::weekday_from_days(day)) &&
           fields::has(fields_->hours, second_of_day / 3600) &&
           fields::has(fields_->minutes, second_of_day / 60 % 60);
}

std::optional<std::chrono::system_clock::time_point> cron_expression::next_after(
    std::chrono::system_clock::time_point after, const time_zone* zone) const {
    if (!fields_) {
        return std::nullopt;  // a default-constructed expression never fires
    }
    const time_zone& z = zone != nullptr ? *zone : *time_zone::utc();
    const fields& f = *fields_;
    // Stay clear of the end of system_clock's range (year 2262 with nanoseconds).
    const std::int64_t last_representable =
        std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::time_point::max())
            .time_since_epoch()
            .count() -
        3 * 86400;
    if (seconds_of(after) > last_representable) {
        return std::nullopt;
    }

    // Walk wall-clock days in the zone: skip whole months and days that cannot match, then try
    // the matching hours and minutes of a matching day in order. The first wall-clock time
    // whose instant is after `after` wins; a repeated time's first occurrence may lie before
    // `after` (we are in the second one), and is then skipped rather than fired twice.
    const std::int64_t start_minute = civil::floor_div(z.to_local(after).time_since_epoch().count(), 60) + 1;
    std::int64_t day = civil::floor_div(start_minute, 1440);
    int first_minute = static_cast<int>(start_minute - day * 1440);
    const std::int64_t last_day = day + 8 * 366;
    for (; day <= last_day; first_minute = 0) {
        if (day * 86400 > last_representable) {
            return std::nullopt;
        }
        const auto date = civil::civil_from_days(day);
        if (!fields::has(f.months, date.month)) {
            day += civil::days_in_month(date.year, date.month) - date.day + 1;
            continue;
        }
        if (!f.day_matches(date.day, civil::weekday_from_days(day))) {
            ++day;
            continue;
        }
        for (int hour = first_minute / 60; hour < 24; ++hour) {
            if (!fields::has(f.hours, hour)) {
                continue;
            }
            for (int minute = hour == first_minute / 60 ? first_minute % 60 : 0; minute < 60; ++minute) {
                if (!fields::has(f.minutes, minute)) {
                    continue;
                }
                const std::int64_t local = day * 86400 + hour * 3600 + minute * 60;
                // Unique: the instant. Gap: the first instant after it. Repeat: the first occurrence.
                const auto instant = z.to_sys(std::chrono::local_seconds(std::chrono::seconds(local))).first;
                if (instant > after) {
                    return std::chrono::system_clock::time_point(instant);
                }
            }
        }
        ++day;
    }
    return std::nullopt;
}

std::vector<std::chrono::system_clock::time_point> cron_expression::next_n(
    std::chrono::system_clock::time_point after, std::size_t n, const time_zone* zone) const {
    std::vector<std::chrono::system_clock::time_point> out;
    while (out.size() < n) {
        const auto next = next_after(out.empty() ? after : out.back(), zone);
        if (!next) {
            break;
        }
        out.push_back(*next);
    }
    return out;
}

std::chrono::seconds cron_expression::nominal_period(std::chrono::system_clock::time_point after,
                                                     const time_zone* zone) const {
    const auto times = next_n(after, 2, zone);
    if (times.size() < 2) {
        return std::chrono::seconds::zero();
    }
    return std::chrono::duration_cast<std::chrono::seconds>(times[1] - times[0]);
}

}  // namespace atlas_restored::schedule
