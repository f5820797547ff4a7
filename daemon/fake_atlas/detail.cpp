#include "fake_atlas/detail.hpp"

#include "fake_atlas/codec.hpp"

#include <boost/json/array.hpp>

#include <ctime>

namespace atlas_restored::fake_atlas::detail {

std::optional<std::string_view> header(const http::header_list& headers, std::string_view name) {
    for (const auto& h : headers) {
        if (iequals(h.name, name)) {
            return std::string_view(h.value);
        }
    }
    return std::nullopt;
}

std::string iso8601(std::chrono::system_clock::time_point t) {
    const std::time_t secs =
        std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

namespace {

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
    if (at + n > s.size()) {
        return false;
    }
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

}  // namespace

bool is_iso8601(std::string_view s) {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
        !digits(s, 8, 2, day) || s[10] != 'T' || !digits(s, 11, 2, hour) || s[13] != ':' ||
        !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second)) {
        return false;
    }
    if (year < 1000 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) {
        return false;
    }
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const int max_day = month == 2 && leap ? 29 : days[month - 1];
    if (day < 1 || day > max_day) {
        return false;
    }
    std::size_t i = 19;
    if (i < s.size() && s[i] == '.') {
        std::size_t start = ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            ++i;
        }
        if (i == start || i - start > 9) {
            return false;
        }
    }
    std::string_view zone = s.substr(i);
    if (zone == "Z") {
        return true;
    }
    int zh = 0, zm = 0;
    return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && digits(zone, 1, 2, zh) &&
           zone[3] == ':' && digits(zone, 4, 2, zm) && zh <= 23 && zm <= 59;
}

bool is_hex24(std::string_view s) {
    if (s.size() != 24) {
        return false;
    }
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

bool is_cluster_name(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && !(i > 0 && c == '-')) {
            return false;
        }
    }
    return true;
}

std::string reason_phrase(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 206:
            return "Partial Content";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 406:
            return "Not Acceptable";
        case 409:
            return "Conflict";
        case 410:
            return "Gone";
        case 415:
            return "Unsupported Media Type";
        case 416:
            return "Range Not Satisfiable";
        case 429:
            return "Too Many Requests";
        case 500:
            return "Internal Server Error";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        default:
            return status >= 500 ? "Server Error" : "Error";
    }
}

boost::json::object api_error(int status, std::string_view error_code, std::string_view detail) {
    boost::json::object o;
    o["detail"] = detail;
    o["error"] = status;
    o["errorCode"] = error_code;
    o["parameters"] = boost::json::array();
    o["reason"] = reason_phrase(status);
    return o;
}

bool has_media_type(std::string_view value, std::string_view want) {
    while (!value.empty()) {
        auto comma = value.find(',');
        std::string_view item = value.substr(0, comma);
        value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
        item = item.substr(0, item.find(';'));
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
            item.remove_prefix(1);
        }
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
            item.remove_suffix(1);
        }
        if (iequals(item, want)) {
            return true;
        }
    }
    return false;
}

}  // namespace atlas_restored::fake_atlas::detail
