#include "http/message.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <array>
#include <limits>

namespace atlas_restored::http {
namespace {

// Retry-After values beyond this are treated as this: a server asking for a week's pause is more
// likely broken than serious, and the scheduler still retries at its own pace.
constexpr std::chrono::seconds max_retry_after{24 * 60 * 60};

char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) {
            return false;
        }
    }
    return true;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

// Digits only, no sign; nullopt on overflow or on anything else.
std::optional<std::uint64_t> parse_u64(std::string_view s) {
    if (s.empty()) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (char c : s) {
        if (!is_digit(c)) {
            return std::nullopt;
        }
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
            return std::nullopt;
        }
        value = value * 10 + digit;
    }
    return value;
}

// A small cursor over an HTTP-date; every read checks bounds.
class date_cursor {
  public:
    explicit date_cursor(std::string_view s) : s_(s) {}
    bool at_end() const { return pos_ == s_.size(); }
    bool literal(std::string_view lit) {
        if (s_.substr(pos_, lit.size()) != lit) {
            return false;
        }
        pos_ += lit.size();
        return true;
    }
    // Exactly `count` digits.
    std::optional<int> digits(std::size_t count) {
        if (s_.size() - pos_ < count) {
            return std::nullopt;
        }
        int value = 0;
        for (std::size_t i = 0; i < count; ++i) {
            const char c = s_[pos_ + i];
            if (!is_digit(c)) {
                return std::nullopt;
            }
            value = value * 10 + (c - '0');
        }
        pos_ += count;
        return value;
    }
    // Letters up to the next non-letter.
    std::string_view word() {
        const std::size_t start = pos_;
        while (pos_ < s_.size() &&
               ((s_[pos_] >= 'A' && s_[pos_] <= 'Z') || (s_[pos_] >= 'a' && s_[pos_] <= 'z'))) {
            ++pos_;
        }
        return s_.substr(start, pos_ - start);
    }

  private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

constexpr std::array<std::string_view, 7> day_names{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> long_day_names{
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> month_names{
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

template <std::size_t N>
bool one_of(std::string_view word, const std::array<std::string_view, N>& names) {
    return std::find(names.begin(), names.end(), word) != names.end();
}

std::optional<unsigned> month_number(std::string_view word) {
    for (std::size_t i = 0; i < month_names.size(); ++i) {
        if (month_names[i] == word) {
            return static_cast<unsigned>(i + 1);
        }
    }
    return std::nullopt;
}

struct date_fields {
    int year = 0;
    unsigned month = 0;
    unsigned day = 0;
    int hour = 0;
    int minute = 0;
    int second = 0;
};

bool read_time_of_day(date_cursor& c, date_fields& f) {
    auto h = c.digits(2);
    if (!h || !c.literal(":")) {
        return false;
    }
    auto m = c.digits(2);
    if (!m || !c.literal(":")) {
        return false;
    }
    auto s = c.digits(2);
    if (!s) {
        return false;
    }
    f.hour = *h;
    f.minute = *m;
    f.second = *s;
    return true;
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<date_fields> parse_imf_fixdate(std::string_view s) {
    date_cursor c(s);
    date_fields f;
    if (!one_of(c.word(), day_names) || !c.literal(", ")) {
        return std::nullopt;
    }
    auto day = c.digits(2);
    if (!day || !c.literal(" ")) {
        return std::nullopt;
    }
    auto month = month_number(c.word());
    if (!month || !c.literal(" ")) {
        return std::nullopt;
    }
    auto year = c.digits(4);
    if (!year || !c.literal(" ") || !read_time_of_day(c, f) || !c.literal(" GMT") || !c.at_end()) {
        return std::nullopt;
    }
    f.day = static_cast<unsigned>(*day);
    f.month = *month;
    f.year = *year;
    return f;
}

// Obsolete "Sunday, 06-Nov-94 08:49:37 GMT": a two-digit year, read as 19xx or 20xx, whichever is
// not more than 50 years in the future (RFC 9110 section 5.6.7).
std::optional<date_fields> parse_rfc850_date(std::string_view s, int current_year) {
    date_cursor c(s);
    date_fields f;
    if (!one_of(c.word(), long_day_names) || !c.literal(", ")) {
        return std::nullopt;
    }
    auto day = c.digits(2);
    if (!day || !c.literal("-")) {
        return std::nullopt;
    }
    auto month = month_number(c.word());
    if (!month || !c.literal("-")) {
        return std::nullopt;
    }
    auto year = c.digits(2);
    if (!year || !c.literal(" ") || !read_time_of_day(c, f) || !c.literal(" GMT") || !c.at_end()) {
        return std::nullopt;
    }
    int full_year = (current_year / 100) * 100 + *year;
    if (full_year > current_year + 50) {
        full_year -= 100;
    }
    f.day = static_cast<unsigned>(*day);
    f.month = *month;
    f.year = full_year;
    return f;
}

// Obsolete asctime "Sun Nov  6 08:49:37 1994".
std::optional<date_fields> parse_asctime_date(std::string_view s) {
    date_cursor c(s);
    date_fields f;
    if (!one_of(c.word(), day_names) || !c.literal(" ")) {
        return std::nullopt;
    }
    auto month = month_number(c.word());
    if (!month || !c.literal(" ")) {
        return std::nullopt;
    }
    std::optional<int> day;
    if (c.literal(" ")) {
        day = c.digits(1);
    } else {
        day = c.digits(2);
    }
    if (!day || !c.literal(" ") || !read_time_of_day(c, f) || !c.literal(" ")) {
        return std::nullopt;
    }
    auto year = c.digits(4);
    if (!year || !c.at_end()) {
        return std::nullopt;
    }
    f.day = static_cast<unsigned>(*day);
    f.month = *month;
    f.year = *year;
    return f;
}

std::optional<std::chrono::sys_seconds> to_time_point(const date_fields& f) {
    using namespace std::chrono;
    const year_month_day ymd{year{f.year}, month{f.month}, day{f.day}};
    // Leap second 60 is allowed by the grammar; it is rounded down by one second.
    if (f.year < 1 || !ymd.ok() || f.hour > 23 || f.minute > 59 || f.second > 60) {
        return std::nullopt;
    }
    return sys_days{ymd} + hours{f.hour} + minutes{f.minute} + seconds{std::min(f.second, 59)};
}

}  // namespace

std::optional<std::string_view> find_header(const header_list& headers, std::string_view name) {
    for (const auto& field : headers) {
        if (iequals(field.name, name)) {
            return std::string_view(field.value);
        }
    }
    return std::nullopt;
}

void set_header(header_list& headers, std::string_view name, std::string value) {
    auto it = std::find_if(
        headers.begin(), headers.end(), [&](const header_field& f) { return iequals(f.name, name); });
    if (it == headers.end()) {
        headers.push_back({std::string(name), std::move(value)});
        return;
    }
    it->value = std::move(value);
    // Later duplicates would contradict the value just set.
    headers.erase(
        std::remove_if(
            std::next(it), headers.end(), [&](const header_field& f) { return iequals(f.name, name); }),
        headers.end());
}

std::string to_string(const origin& o) {
    // An IPv6 literal needs brackets to keep its colons apart from the port's.
    if (o.host.find(':') != std::string::npos) {
        return "[" + o.host + "]:" + std::to_string(o.port);
    }
    return o.host + ":" + std::to_string(o.port);
}

result<parsed_url> parse_https_url(std::string_view url) {
    // Messages never quote the URL: it may carry a signed query string.
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) {
        return make_error(errc::invalid_input, "not a valid absolute URL");
    }
    const boost::urls::url_view& u = *parsed;
    if (u.scheme_id() != boost::urls::scheme::https) {
        return make_error(errc::invalid_input, "only https:// URLs are accepted");
    }
    if (u.has_userinfo()) {
        return make_error(errc::invalid_input, "URLs with credentials (user@host) are refused");
    }

    parsed_url out;
    switch (u.host_type()) {
        case boost::urls::host_type::name: {
            const auto encoded = u.encoded_host_name();
            if (encoded.find('%') != boost::urls::string_view::npos) {
                return make_error(errc::invalid_input, "percent-encoded host names are refused");
            }
            out.where.host.reserve(encoded.size());
            for (char c : encoded) {
                out.where.host.push_back(ascii_lower(c));
            }
            break;
        }
        case boost::urls::host_type::ipv4:
        case boost::urls::host_type::ipv6:
            out.where.host = std::string(u.encoded_host_address());
            break;
        default:
            return make_error(errc::invalid_input, "URL has no usable host");
    }
    if (out.where.host.empty()) {
        return make_error(errc::invalid_input, "URL has an empty host");
    }

    if (u.has_port() && !u.port().empty()) {
        auto port = parse_u64(std::string_view(u.port().data(), u.port().size()));
        if (!port || *port == 0 || *port > 65535) {
            return make_error(errc::invalid_input, "URL has an invalid port");
        }
        out.where.port = static_cast<std::uint16_t>(*port);
    }

    const auto path = u.encoded_path();
    out.target = path.empty() ? std::string("/") : std::string(path.data(), path.size());
    if (u.has_query()) {
        const auto query = u.encoded_query();
        out.target += '?';
        out.target.append(query.data(), query.size());
    }
    return out;
}

std::string redact_url(std::string_view url) {
    const auto cut = url.find_first_of("?#");
    std::string_view kept = url.substr(0, cut);
    // Credentials in the authority are dropped too: they are as secret as a signature.
    const auto scheme_end = kept.find("://");
    if (scheme_end != std::string_view::npos) {
        const auto authority_start = scheme_end + 3;
        const auto authority_end = kept.find('/', authority_start);
        const auto at = kept.substr(0, authority_end).rfind('@');
        if (at != std::string_view::npos && at >= authority_start) {
            return std::string(kept.substr(0, authority_start)) + std::string(kept.substr(at + 1));
        }
    }
    return std::string(kept);
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
    using namespace std::chrono;
    value = trim_ows(value);
    if (value.empty()) {
        return std::nullopt;
    }
    if (std::all_of(value.begin(), value.end(), is_digit)) {
        auto delta = parse_u64(value);
        // Only overflow makes parse_u64 fail here, and an overflowing delay is an absurd one.
        if (!delta || *delta > static_cast<std::uint64_t>(max_retry_after.count())) {
            return max_retry_after;
        }
        return seconds{static_cast<seconds::rep>(*delta)};
    }

    const auto now_s = floor<seconds>(now);
    const int current_year = static_cast<int>(year_month_day{floor<days>(now_s)}.year());
    std::optional<date_fields> fields = parse_imf_fixdate(value);
    if (!fields) {
        fields = parse_rfc850_date(value, current_year);
    }
    if (!fields) {
        fields = parse_asctime_date(value);
    }
    if (!fields) {
        return std::nullopt;
    }
    auto when = to_time_point(*fields);
    if (!when) {
        return std::nullopt;
    }
    // Both sides are whole seconds since the epoch with years below 10000: no overflow.
    const auto delta = *when - now_s;
    if (delta <= seconds{0}) {
        return seconds{0};
    }
    return std::min<seconds>(delta, max_retry_after);
}

namespace {

// "100", or the leading number of a structured value like "100, 100;w=60".
std::optional<std::int64_t> parse_leading_count(std::string_view value) {
    value = trim_ows(value);
    std::size_t end = 0;
    while (end < value.size() && is_digit(value[end])) {
        ++end;
    }
    if (end == 0) {
        return std::nullopt;
    }
    if (end < value.size() && value[end] != ',' && value[end] != ';' && value[end] != ' ' &&
        value[end] != '\t') {
        return std::nullopt;
    }
    auto n = parse_u64(value.substr(0, end));
    if (!n || *n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(*n);
}

}  // namespace

rate_limit_info read_rate_limit_headers(const header_list& headers,
                                        std::chrono::system_clock::time_point now) {
    rate_limit_info info;
    if (auto v = find_header(headers, "Retry-After")) {
        info.retry_after = parse_retry_after(*v, now);
    }
    auto limit = find_header(headers, "RateLimit-Limit");
    if (!limit) {
        limit = find_header(headers, "X-RateLimit-Limit");
    }
    if (limit) {
        info.limit = parse_leading_count(*limit);
    }
    auto remaining = find_header(headers, "RateLimit-Remaining");
    if (!remaining) {
        remaining = find_header(headers, "X-RateLimit-Remaining");
    }
    if (remaining) {
        info.remaining = parse_leading_count(*remaining);
    }
    return info;
}

std::optional<content_range> parse_content_range(std::string_view value) {
    value = trim_ows(value);
    constexpr std::string_view unit = "bytes";
    if (value.size() < unit.size() || !iequals(value.substr(0, unit.size()), unit)) {
        return std::nullopt;
    }
    value.remove_prefix(unit.size());
    if (value.empty() || value.front() != ' ') {
        return std::nullopt;
    }
    while (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
    }
    const auto dash = value.find('-');
    const auto slash = value.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) {
        return std::nullopt;
    }
    auto first = parse_u64(value.substr(0, dash));
    auto last = parse_u64(value.substr(dash + 1, slash - dash - 1));
    if (!first || !last || *first > *last) {
        return std::nullopt;
    }
    content_range out{*first, *last, std::nullopt};
    const auto total_text = value.substr(slash + 1);
    if (total_text != "*") {
        auto total = parse_u64(total_text);
        if (!total || *last >= *total) {
            return std::nullopt;
        }
        out.total = *total;
    }
    return out;
}

}  // namespace atlas_restored::http
