#include "schedule/time_zone.hpp"

#include "schedule/civil.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <system_error>

namespace atlas_restored::schedule {
namespace {

using type_info = time_zone::type_info;
using rule_date = time_zone::rule_date;
using posix_rule = time_zone::posix_rule;
using change = time_zone::change;

constexpr std::int64_t seconds_per_day = 86400;
// RFC 8536 says UT offsets SHOULD lie in (-25h, 26h); we refuse others, which also bounds the
// window in which to_sys() has to look for transitions.
constexpr std::int32_t min_offset = -89999;
constexpr std::int32_t max_offset = 93599;
constexpr std::int64_t search_window = 26 * 3600;
constexpr std::uintmax_t max_file_size = 1 << 20;

std::int64_t to_seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
}

// ---------------------------------------------------------------------------------------------
// POSIX TZ strings (the TZif footer), including the RFC 8536 extensions: hours up to 167 and
// negative times in rules.

class posix_parser {
  public:
    explicit posix_parser(std::string_view text) : text_(text) {}

    std::optional<posix_rule> parse(std::string& why) {
        posix_rule rule;
        if (!name(rule.standard.abbreviation) || !offset(rule.standard.offset, 24)) {
            why = "bad standard-time part";
            return std::nullopt;
        }
        rule.standard.offset = -rule.standard.offset;  // POSIX counts hours west of UTC
        rule.standard.is_dst = false;
        if (at_end()) {
            return rule;
        }
        rule.has_dst = true;
        rule.daylight.is_dst = true;
        if (!name(rule.daylight.abbreviation)) {
            why = "bad daylight-time name";
            return std::nullopt;
        }
        rule.daylight.offset = rule.standard.offset + 3600;
        if (!at_end() && peek() != ',') {
            if (!offset(rule.daylight.offset, 24)) {
                why = "bad daylight-time offset";
                return std::nullopt;
            }
            rule.daylight.offset = -rule.daylight.offset;
        }
        if (at_end()) {
            // POSIX leaves the default rule to the implementation; tzcode uses the US rules.
            rule.start = {rule_date::form::month_week_day, 0, 3, 2, 7200};
            rule.end = {rule_date::form::month_week_day, 0, 11, 1, 7200};
            return rule;
        }
        if (!consume(',') || !date(rule.start) || !consume(',') || !date(rule.end) || !at_end()) {
            why = "bad transition rule";
            return std::nullopt;
        }
        if (rule.daylight.offset < min_offset || rule.daylight.offset > max_offset) {
            why = "implausible daylight-time offset";
            return std::nullopt;
        }
        return rule;
    }

  private:
    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return at_end() ? '\0' : text_[pos_]; }
    bool consume(char c) {
        if (peek() != c) {
            return false;
        }
        ++pos_;
        return true;
    }
    static bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
    static bool is_digit(char c) { return c >= '0' && c <= '9'; }

    bool name(std::string& out) {
        out.clear();
        if (consume('<')) {
            while (!at_end() && peek() != '>') {
                const char c = peek();
                if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-') {
                    return false;
                }
                out += c;
                ++pos_;
            }
            return consume('>') && !out.empty();
        }
        while (!at_end() && is_alpha(peek())) {
            out += peek();
            ++pos_;
        }
        return out.size() >= 3;
    }

    bool number(int max, int& out) {
        if (!is_digit(peek())) {
            return false;
        }
        out = 0;
        while (is_digit(peek())) {
            out = out * 10 + (peek() - '0');
            ++pos_;
            if (out > max) {
                return false;
            }
        }
        return true;
    }

    // [+-]hh[:mm[:ss]] -> signed seconds (sign as written).
    bool offset(std::int32_t& out, int max_hours) {
        int sign = 1;
        if (consume('-')) {
            sign = -1;
        } else {
            consume('+');
        }
        int h = 0;
        int m = 0;
        int s = 0;
        if (!number(max_hours, h)) {
            return false;
        }
        if (consume(':')) {
            if (!number(59, m)) {
                return false;
            }
            if (consume(':') && !number(59, s)) {
                return false;
            }
        }
        out = sign * (h * 3600 + m * 60 + s);
        return true;
    }

    bool date(rule_date& out) {
        if (consume('J')) {
            out.kind = rule_date::form::julian_no_leap;
            if (!number(365, out.day) || out.day < 1) {
                return false;
            }
        } else if (consume('M')) {
            out.kind = rule_date::form::month_week_day;
            if (!number(12, out.month) || out.month < 1 || !consume('.') || !number(5, out.week) ||
                out.week < 1 || !consume('.') || !number(6, out.day)) {
                return false;
            }
        } else {
            out.kind = rule_date::form::julian_zero;
            if (!number(365, out.day)) {
                return false;
            }
        }
        out.time = 7200;
        if (consume('/')) {
            return offset(out.time, 167);
        }
        return true;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

// The UTC instant at which `d` happens in `year`, `offset` being the offset in force before it.
std::int64_t rule_instant(const rule_date& d, std::int64_t year, std::int32_t offset) {
    std::int64_t day = 0;
    switch (d.kind) {
        case rule_date::form::julian_no_leap:
            day = civil::days_from_civil(year, 1, 1) + d.day - 1 + (civil::is_leap(year) && d.day >= 60);
            break;
        case rule_date::form::julian_zero:
            day = civil::days_from_civil(year, 1, 1) + d.day;
            break;
        case rule_date::form::month_week_day: {
            const auto month = static_cast<unsigned>(d.month);
            const std::int64_t first = civil::days_from_civil(year, month, 1);
            const auto first_weekday = static_cast<int>(civil::weekday_from_days(first));
            day = first + (d.day - first_weekday + 7) % 7 + 7 * (d.week - 1);
            const std::int64_t last = first + civil::days_in_month(year, month) - 1;
            while (day > last) {  // week 5 means "the last"
                day -= 7;
            }
            break;
        }
    }
    return day * seconds_per_day + d.time - offset;
}

std::int64_t local_year(std::int64_t t, std::int32_t offset) {
    return civil::civil_from_days(civil::floor_div(t + offset, seconds_per_day)).year;
}

// The rule's changes for years [first_year, last_year], sorted, with pairs that coincide (a zone
// on permanent daylight time written as "0/0,J365/25") cancelled, and no-op changes dropped.
std::vector<change> rule_changes(const posix_rule& rule, std::int64_t first_year, std::int64_t last_year) {
    std::vector<change> all;
    for (std::int64_t y = first_year; y <= last_year; ++y) {
        all.push_back({rule_instant(rule.start, y, rule.standard.offset), &rule.daylight});
        all.push_back({rule_instant(rule.end, y, rule.daylight.offset), &rule.standard});
    }
    std::stable_sort(all.begin(), all.end(), [](const change& a, const change& b) { return a.at < b.at; });
    std::vector<change> out;
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (i + 1 < all.size() && all[i].at == all[i + 1].at && all[i].to != all[i + 1].to) {
            ++i;
            continue;
        }
        if (!out.empty() && out.back().to == all[i].to) {
            continue;
        }
        out.push_back(all[i]);
    }
    return out;
}

const type_info& rule_type_at(const posix_rule& rule, std::int64_t t) {
    if (!rule.has_dst) {
        return rule.standard;
    }
    const std::int64_t year = local_year(t, rule.standard.offset);
    const auto changes = rule_changes(rule, year - 1, year + 1);
    if (changes.empty()) {
        return rule.daylight;  // both changes always cancel: permanent daylight time
    }
    const type_info* current = changes.front().to == &rule.daylight ? &rule.standard : &rule.daylight;
    for (const auto& c : changes) {
        if (c.at > t) {
            break;
        }
        current = c.to;
    }
    return *current;
}

// ---------------------------------------------------------------------------------------------
// TZif (RFC 8536).

class byte_reader {
  public:
    explicit byte_reader(std::string_view data) : data_(data) {}
    std::size_t remaining() const { return data_.size() - pos_; }
    std::size_t position() const { return pos_; }
    bool skip(std::uint64_t n) {
        if (n > remaining()) {
            return false;
        }
        pos_ += static_cast<std::size_t>(n);
        return true;
    }
    std::string_view take(std::size_t n) {
        const auto out = data_.substr(pos_, n);
        pos_ += n;
        return out;
    }
    // Callers check remaining() first.
    std::uint8_t u8() { return static_cast<std::uint8_t>(data_[pos_++]); }
    std::uint32_t u32() {
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            v = (v << 8) | u8();
        }
        return v;
    }
    std::uint64_t u64() {
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) {
            v = (v << 8) | u8();
        }
        return v;
    }

  private:
    std::string_view data_;
    std::size_t pos_ = 0;
};

struct tzif_header {
    char version = 0;
    std::uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;

    std::uint64_t data_size(std::uint64_t time_size) const {
        return std::uint64_t{timecnt} * time_size + timecnt + std::uint64_t{typecnt} * 6 + charcnt +
               std::uint64_t{leapcnt} * (time_size + 4) + isstdcnt + isutcnt;
    }
};

std::optional<tzif_header> read_header(byte_reader& in, std::string& why) {
    if (in.remaining() < 44) {
        why = "truncated header";
        return std::nullopt;
    }
    if (in.take(4) != "TZif") {
        why = "not a TZif file";
        return std::nullopt;
    }
    tzif_header h;
    h.version = static_cast<char>(in.u8());
    if (h.version != 0 && (h.version < '2' || h.version > '9')) {
        why = "unknown TZif version";
        return std::nullopt;
    }
    in.skip(15);
    h.isutcnt = in.u32();
    h.isstdcnt = in.u32();
    h.leapcnt = in.u32();
    h.timecnt = in.u32();
    h.typecnt = in.u32();
    h.charcnt = in.u32();
    if (h.typecnt == 0 || h.typecnt > 256) {  // type indices are one byte
        why = "bad count of local time types";
        return std::nullopt;
    }
    if (h.charcnt == 0) {
        why = "no time zone abbreviations";
        return std::nullopt;
    }
    if ((h.isstdcnt != 0 && h.isstdcnt != h.typecnt) || (h.isutcnt != 0 && h.isutcnt != h.typecnt)) {
        why = "bad standard/UT indicator count";
        return std::nullopt;
    }
    return h;
}

struct tzif_data {
    std::vector<type_info> types;
    std::vector<time_zone::transition> transitions;
};

std::optional<tzif_data> read_data(byte_reader& in, const tzif_header& h, int time_size, std::string& why) {
    if (h.data_size(static_cast<std::uint64_t>(time_size)) > in.remaining()) {
        why = "truncated data block";
        return std::nullopt;
    }
    tzif_data out;
    out.transitions.resize(h.timecnt);
    for (auto& t : out.transitions) {
        t.at = time_size == 8 ? static_cast<std::int64_t>(in.u64())
                              : static_cast<std::int64_t>(static_cast<std::int32_t>(in.u32()));
    }
    for (auto& t : out.transitions) {
        t.type = in.u8();
        if (t.type >= h.typecnt) {
            why = "transition refers to a missing local time type";
            return std::nullopt;
        }
    }
    for (std::size_t i = 1; i < out.transitions.size(); ++i) {
        if (out.transitions[i].at <= out.transitions[i - 1].at) {
            why = "transition times are not ascending";
            return std::nullopt;
        }
    }
    struct raw_type {
        std::int32_t offset;
        std::uint8_t is_dst;
        std::uint8_t abbreviation_index;
    };
    std::vector<raw_type> raw(h.typecnt);
    for (auto& r : raw) {
        r.offset = static_cast<std::int32_t>(in.u32());
        r.is_dst = in.u8();
        r.abbreviation_index = in.u8();
    }
    const std::string_view chars = in.take(h.charcnt);
    for (const auto& r : raw) {
        if (r.offset < min_offset || r.offset > max_offset) {
            why = "implausible UT offset";
            return std::nullopt;
        }
        if (r.is_dst > 1 || r.abbreviation_index >= chars.size()) {
            why = "bad local time type";
            return std::nullopt;
        }
        auto abbreviation = chars.substr(r.abbreviation_index);
        abbreviation = abbreviation.substr(0, abbreviation.find('\0'));
        out.types.push_back({r.offset, r.is_dst == 1, std::string(abbreviation)});
    }
    // Leap-second records and the standard/UT indicators (only meaningful for POSIX-TZ-string
    // fallbacks without a footer) are not used.
    in.skip(std::uint64_t{h.leapcnt} * static_cast<std::uint64_t>(time_size + 4) + h.isstdcnt + h.isutcnt);
    return out;
}

}  // namespace

result<std::shared_ptr<const time_zone>> time_zone::from_tzif(std::string name, std::string_view bytes) {
    auto fail = [&](const std::string& why) -> result<std::shared_ptr<const time_zone>> {
        return make_error(errc::invalid_input, "time zone '" + name + "': malformed TZif data (" + why + ")");
    };
    std::string why;
    byte_reader in(bytes);
    auto header = read_header(in, why);
    if (!header) {
        return fail(why);
    }
    std::optional<tzif_data> data;
    std::string_view footer;
    if (header->version == 0) {
        data = read_data(in, *header, 4, why);
        if (!data) {
            return fail(why);
        }
    } else {
        // Version 2+: skip the 32-bit block and use the 64-bit one that follows.
        if (!in.skip(header->data_size(4))) {
            return fail("truncated version 1 data block");
        }
        header = read_header(in, why);
        if (!header) {
            return fail(why + " (second header)");
        }
        data = read_data(in, *header, 8, why);
        if (!data) {
            return fail(why);
        }
        if (in.remaining() > 0) {
            const auto rest = in.take(in.remaining());
            const auto close = rest.find('\n', 1);
            if (rest[0] != '\n' || close == std::string_view::npos) {
                return fail("footer is not enclosed in newlines");
            }
            footer = rest.substr(1, close - 1);
        }
    }

    std::optional<posix_rule> rule;
    if (!footer.empty()) {
        posix_parser parser(footer);
        rule = parser.parse(why);
        if (!rule) {
            return fail("footer '" + std::string(footer) + "': " + why);
        }
    }
    std::shared_ptr<time_zone> zone(new time_zone());
    zone->name_ = std::move(name);
    zone->types_ = std::move(data->types);
    zone->transitions_ = std::move(data->transitions);
    if (rule) {
        zone->has_footer_ = true;
        zone->footer_ = std::move(*rule);
    }
    return std::shared_ptr<const time_zone>(std::move(zone));
}

result<std::shared_ptr<const time_zone>> time_zone::from_posix(std::string name, std::string_view tz) {
    std::string why;
    posix_parser parser(tz);
    auto rule = parser.parse(why);
    if (!rule || rule->standard.offset < min_offset || rule->standard.offset > max_offset) {
        return make_error(errc::invalid_input,
                          "time zone '" + name + "': bad POSIX TZ string '" + std::string(tz) + "'" +
                              (why.empty() ? std::string() : " (" + why + ")"));
    }
    std::shared_ptr<time_zone> zone(new time_zone());
    zone->name_ = std::move(name);
    zone->types_.push_back(rule->standard);
    zone->has_footer_ = true;
    zone->footer_ = std::move(*rule);
    return std::shared_ptr<const time_zone>(std::move(zone));
}

std::shared_ptr<const time_zone> time_zone::utc() {
    static const std::shared_ptr<const time_zone> instance = [] {
        std::shared_ptr<time_zone> zone(new time_zone());
        zone->name_ = "UTC";
        zone->types_.push_back({0, false, "UTC"});
        return std::shared_ptr<const time_zone>(std::move(zone));
    }();
    return instance;
}

result<std::shared_ptr<const time_zone>> time_zone::load(std::string_view name,
                                                         const std::filesystem::path& zoneinfo_dir) {
    auto unknown = [&] {
        return make_error(errc::invalid_input, "unknown time zone '" + std::string(name) + "'");
    };
    if (name == "UTC") {
        return utc();
    }
    // Only plain relative IANA names: the name comes from configuration and must not reach
    // outside the zoneinfo directory.
    if (name.empty() || name.size() > 255 || name.front() == '/') {
        return unknown();
    }
    for (const char c : name) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                        c == '/' || c == '_' || c == '-' || c == '+' || c == '.';
        if (!ok) {
            return unknown();
        }
    }
    std::size_t begin = 0;
    while (begin <= name.size()) {
        const auto end = std::min(name.find('/', begin), name.size());
        const auto part = name.substr(begin, end - begin);
        if (part.empty() || part == "." || part == "..") {
            return unknown();
        }
        begin = end + 1;
    }

    const auto path = zoneinfo_dir / std::filesystem::path(name);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return unknown();
    }
    const auto size = std::filesystem::file_size(path, ec);
    if (ec || size > max_file_size) {
        return make_error(errc::invalid_input,
                          "time zone '" + std::string(name) + "': " + path.string() + " is not a TZif file");
    }
    std::ifstream file(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    if (!file.good() && !file.eof()) {
        return make_error(errc::io_failed,
                          "time zone '" + std::string(name) + "': cannot read " + path.string());
    }
    if (bytes.compare(0, 4, "TZif") != 0) {
        return unknown();  // e.g. zone.tab or tzdata.zi, which live in the same directory
    }
    return from_tzif(std::string(name), bytes);
}

const time_zone::type_info& time_zone::type_at(std::int64_t t) const {
    if (transitions_.empty()) {
        return has_footer_ ? rule_type_at(footer_, t) : types_.front();
    }
    if (t < transitions_.front().at) {
        return types_.front();  // RFC 8536: type 0 applies before the first transition
    }
    if (has_footer_ && t > transitions_.back().at) {
        return rule_type_at(footer_, t);
    }
    const auto it = std::upper_bound(
        transitions_.begin(), transitions_.end(), t, [](std::int64_t v, const transition& tr) {
            return v < tr.at;
        });
    return types_[std::prev(it)->type];
}

std::vector<change> time_zone::changes_between(std::int64_t from, std::int64_t to) const {
    std::vector<change> out;
    auto it = std::lower_bound(
        transitions_.begin(), transitions_.end(), from, [](const transition& tr, std::int64_t v) {
            return tr.at < v;
        });
    for (; it != transitions_.end() && it->at <= to; ++it) {
        out.push_back({it->at, &types_[it->type]});
    }
    if (has_footer_ && footer_.has_dst) {
        const std::int64_t last =
            transitions_.empty() ? std::numeric_limits<std::int64_t>::min() : transitions_.back().at;
        if (to > last) {
            const std::int64_t lo = std::max(from, last + 1);
            const auto changes = rule_changes(footer_,
                                              local_year(lo, footer_.standard.offset) - 1,
                                              local_year(to, footer_.standard.offset) + 1);
            for (const auto& c : changes) {
                if (c.at >= lo && c.at <= to) {
                    out.push_back(c);
                }
            }
        }
    }
    return out;
}

std::chrono::seconds time_zone::offset_at(std::chrono::system_clock::time_point t) const {
    return std::chrono::seconds(type_at(to_seconds(t)).offset);
}

zone_info time_zone::info_at(std::chrono::system_clock::time_point t) const {
    const auto& type = type_at(to_seconds(t));
    return {std::chrono::seconds(type.offset), type.is_dst, type.abbreviation};
}

std::chrono::local_seconds time_zone::to_local(std::chrono::system_clock::time_point t) const {
    const std::int64_t s = to_seconds(t);
    return std::chrono::local_seconds(std::chrono::seconds(s + type_at(s).offset));
}

local_conversion time_zone::to_sys(std::chrono::local_seconds local) const {
    // Clamp absurd inputs (millions of years away) so that the arithmetic below cannot overflow.
    constexpr std::int64_t limit = std::int64_t{1} << 50;
    const std::int64_t l = std::clamp<std::int64_t>(local.time_since_epoch().count(), -limit, limit);
    // Offsets lie within (-25h, 26h), so the instant is within l -/+ 26h; every offset in force
    // somewhere in that window is a candidate, and a candidate is right if it is in force at
    // l - candidate.
    const auto changes = changes_between(l - search_window, l + search_window);
    std::vector<std::int32_t> offsets{type_at(l - search_window).offset};
    for (const auto& c : changes) {
        offsets.push_back(c.to->offset);
    }
    std::sort(offsets.begin(), offsets.end());
    offsets.erase(std::unique(offsets.begin(), offsets.end()), offsets.end());
    std::vector<std::int64_t> instants;
    for (const auto offset : offsets) {
        if (type_at(l - offset).offset == offset) {
            instants.push_back(l - offset);
        }
    }
    std::sort(instants.begin(), instants.end());

    auto sys = [](std::int64_t s) { return std::chrono::sys_seconds(std::chrono::seconds(s)); };
    if (instants.size() == 1) {
        return {local_kind::unique, sys(instants.front()), sys(instants.front())};
    }
    if (instants.size() > 1) {
        return {local_kind::ambiguous, sys(instants.front()), sys(instants.back())};
    }
    // In a gap: the forward transition whose skipped wall-clock range contains l.
    for (const auto& c : changes) {
        const std::int64_t before = type_at(c.at - 1).offset;
        if (c.at + before <= l && l < c.at + c.to->offset) {
            return {local_kind::nonexistent, sys(c.at), sys(c.at)};
        }
    }
    // Unreachable for consistent data; answer something monotonic rather than fail.
    const std::int64_t fallback = l - type_at(l - search_window).offset;
    return {local_kind::nonexistent, sys(fallback), sys(fallback)};
}

}  // namespace atlas_restored::schedule
