// Header parsers that read what a server sends: Content-Range, Retry-After, RateLimit-*, URLs.
#include "http/message.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace atlas_restored::http;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto now = std::chrono::system_clock::now();
    (void)parse_content_range(text);
    (void)parse_retry_after(text, now);
    (void)parse_https_url(text);
    (void)redact_url(text);
    header_list headers{{"RateLimit-Limit", std::string(text)}, {"RateLimit-Remaining", std::string(text)}};
    (void)read_rate_limit_headers(headers, now);
    return 0;
}
