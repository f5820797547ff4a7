#pragma once
// Plain HTTP messages shared by the client, the server and the pure protocol code. No Beast here:
// this header is included widely and must stay cheap to compile.

#include "util/error.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atlas_restored::http {

struct header_field {
    std::string name;
    std::string value;
};
using header_list = std::vector<header_field>;

// Case-insensitive lookup of the first header with this name.
std::optional<std::string_view> find_header(const header_list& headers, std::string_view name);
void set_header(header_list& headers, std::string_view name, std::string value);

// Scheme, host and port of an HTTPS peer. The client only speaks HTTPS.
struct origin {
    std::string host;
    std::uint16_t port = 443;
    friend bool operator==(const origin&, const origin&) = default;
};
std::string to_string(const origin& o);  // "host:port"

struct request {
    std::string method = "GET";
    std::string target = "/";  // path and query, already percent-encoded
    header_list headers;
    std::string body;
    // Overrides the client's request timeout. For streamed bodies it bounds each read (idle time).
    std::optional<std::chrono::milliseconds> timeout;
};

struct response {
    int status = 0;
    header_list headers;
    std::string body;  // empty for streamed responses
};

// "https://host[:port]/path?query" -> origin + target. Only https is accepted, a userinfo part is
// refused (credentials never travel in URLs we build), and the target defaults to "/".
struct parsed_url {
    origin where;
    std::string target;
};
result<parsed_url> parse_https_url(std::string_view url);

// The URL without its query and fragment: what may be logged of a signed download link.
std::string redact_url(std::string_view url);

// Retry-After is either delta-seconds or an HTTP-date; `now` makes the date form testable.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

// Rate-limit hints from any response's headers, surfaced to callers.
struct rate_limit_info {
    std::optional<std::chrono::seconds> retry_after;
    std::optional<std::int64_t> limit;      // RateLimit-Limit
    std::optional<std::int64_t> remaining;  // RateLimit-Remaining
};
rate_limit_info read_rate_limit_headers(const header_list& headers, std::chrono::system_clock::time_point now);

// "bytes FIRST-LAST/TOTAL" ("*" total allowed). Anything else is nullopt.
struct content_range {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::optional<std::uint64_t> total;
};
std::optional<content_range> parse_content_range(std::string_view value);

}  // namespace atlas_restored::http
