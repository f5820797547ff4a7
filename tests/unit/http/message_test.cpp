#include "http/message.hpp"

#include <gtest/gtest.h>

#include <random>

namespace atlas_restored::http {
namespace {

using namespace std::chrono_literals;
using std::chrono::seconds;

// 2024-03-01 12:00:00 UTC.
const std::chrono::system_clock::time_point test_now =
    std::chrono::sys_days{std::chrono::year{2024} / 3 / 1} + 12h;

TEST(headers, find_is_case_insensitive_and_returns_the_first) {
    header_list h{{"Content-Type", "a"}, {"content-type", "b"}, {"X-Other", "c"}};
    EXPECT_EQ(find_header(h, "CONTENT-TYPE"), "a");
    EXPECT_EQ(find_header(h, "x-other"), "c");
    EXPECT_EQ(find_header(h, "missing"), std::nullopt);
    EXPECT_EQ(find_header(h, "Content-Typ"), std::nullopt);
}

TEST(headers, set_replaces_every_occurrence_or_appends) {
    header_list h{{"Accept", "a"}, {"X", "1"}, {"accept", "b"}};
    set_header(h, "ACCEPT", "c");
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(find_header(h, "accept"), "c");
    set_header(h, "New", "v");
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h.back().name, "New");
    EXPECT_EQ(h.back().value, "v");
}

TEST(origin, to_string_brackets_ipv6) {
    EXPECT_EQ(to_string(origin{"cloud.mongodb.com", 443}), "cloud.mongodb.com:443");
    EXPECT_EQ(to_string(origin{"::1", 8443}), "[::1]:8443");
}

struct url_case {
    std::string_view url;
    bool ok;
    std::string host;
    std::uint16_t port;
    std::string target;
};

TEST(parse_https_url, table) {
    const url_case cases[] = {
        {"https://cloud.mongodb.com/api/atlas/v1.0/groups",
         true,
         "cloud.mongodb.com",
         443,
         "/api/atlas/v1.0/groups"},
        {"https://Cloud.MongoDB.com", true, "cloud.mongodb.com", 443, "/"},
        {"HTTPS://example.com/", true, "example.com", 443, "/"},
        {"https://127.0.0.1:8443/x?a=1&b=%20#frag", true, "127.0.0.1", 8443, "/x?a=1&b=%20"},
        {"https://[::1]:9000/p", true, "::1", 9000, "/p"},
        {"https://example.com:/p", true, "example.com", 443, "/p"},
        {"https://example.com?q=1", true, "example.com", 443, "/?q=1"},
        {"http://example.com/", false, "", 0, ""},
        {"ftp://example.com/", false, "", 0, ""},
        {"https://user:secret@example.com/", false, "", 0, ""},
        {"https://user@example.com/", false, "", 0, ""},
        {"https://example.com:0/", false, "", 0, ""},
        {"https://example.com:65536/", false, "", 0, ""},
        {"https://example.com:99999999999999999999999/", false, "", 0, ""},
        {"https:///path", false, "", 0, ""},
        {"https://exa%41mple.com/", false, "", 0, ""},
        {"/relative/path", false, "", 0, ""},
        {"", false, "", 0, ""},
        {"https://exa mple.com/", false, "", 0, ""},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(std::string(c.url));
        auto r = parse_https_url(c.url);
        ASSERT_EQ(r.has_value(), c.ok) << (r ? "" : r.error().message);
        if (c.ok) {
            EXPECT_EQ(r->where.host, c.host);
            EXPECT_EQ(r->where.port, c.port);
            EXPECT_EQ(r->target, c.target);
        } else {
            EXPECT_EQ(r.error().code, errc::invalid_input);
            // Refusals never echo the URL, which may carry credentials or a signature.
            EXPECT_EQ(r.error().message.find("secret"), std::string::npos);
        }
    }
}

TEST(redact_url, drops_query_fragment_and_credentials) {
    EXPECT_EQ(redact_url("https://s3.example.com/snap.tar.gz?X-Amz-Signature=abc&X-Amz-Credential=k"),
              "https://s3.example.com/snap.tar.gz");
    EXPECT_EQ(redact_url("https://h/p#frag"), "https://h/p");
    EXPECT_EQ(redact_url("https://h/p"), "https://h/p");
    EXPECT_EQ(redact_url("https://user:pw@h/p?x"), "https://h/p");
    EXPECT_EQ(redact_url("https://h/a@b"), "https://h/a@b");
    EXPECT_EQ(redact_url("?only-query"), "");
    EXPECT_EQ(redact_url(""), "");
}

TEST(parse_retry_after, delta_seconds) {
    EXPECT_EQ(parse_retry_after("120", test_now), seconds(120));
    EXPECT_EQ(parse_retry_after("  7\t", test_now), seconds(7));
    EXPECT_EQ(parse_retry_after("0", test_now), seconds(0));
    // Absurd values are clamped to a day, overflow included.
    EXPECT_EQ(parse_retry_after("86401", test_now), seconds(86400));
    EXPECT_EQ(parse_retry_after("99999999999999999999999999", test_now), seconds(86400));
}

TEST(parse_retry_after, http_dates) {
    EXPECT_EQ(parse_retry_after("Fri, 01 Mar 2024 12:00:30 GMT", test_now), seconds(30));
    EXPECT_EQ(parse_retry_after("Friday, 01-Mar-24 12:01:00 GMT", test_now), seconds(60));
    EXPECT_EQ(parse_retry_after("Fri Mar  1 12:00:05 2024", test_now), seconds(5));
    // A date in the past means "now".
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", test_now), seconds(0));
    // Far in the future: clamped.
    EXPECT_EQ(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", test_now), seconds(86400));
    // Leap day and leap second are valid.
    EXPECT_EQ(parse_retry_after("Thu, 29 Feb 2024 12:00:00 GMT", test_now), seconds(0));
    EXPECT_EQ(parse_retry_after("Fri, 01 Mar 2024 12:00:60 GMT", test_now), seconds(59));
}

TEST(parse_retry_after, garbage_is_nullopt) {
    for (std::string_view bad : {"",
                                 "   ",
                                 "-5",
                                 "+5",
                                 "5s",
                                 "1.5",
                                 "soon",
                                 "Fri, 01 Mar 2024 12:00:30",
                                 "Fri, 01 Mar 2024 12:00:30 UTC",
                                 "Fri, 30 Feb 2024 12:00:30 GMT",
                                 "Fri, 01 Foo 2024 12:00:30 GMT",
                                 "Fri, 01 Mar 2024 24:00:00 GMT",
                                 "Fri, 01 Mar 2024 12:60:00 GMT",
                                 "Fri, 1 Mar 2024 12:00:30 GMT",
                                 "Fri, 01 Mar 0000 12:00:30 GMT",
                                 "Xyz, 01 Mar 2024 12:00:30 GMT",
                                 "Fri, 01 Mar 2024 12:00:30 GMTX"}) {
        EXPECT_EQ(parse_retry_after(bad, test_now), std::nullopt) << bad;
    }
}

TEST(read_rate_limit_headers, reads_all_three) {
    header_list h{{"retry-after", "10"}, {"RateLimit-Limit", "100, 100;w=60"}, {"ratelimit-remaining", "0"}};
    auto info = read_rate_limit_headers(h, test_now);
    EXPECT_EQ(info.retry_after, seconds(10));
    EXPECT_EQ(info.limit, 100);
    EXPECT_EQ(info.remaining, 0);

    auto none = read_rate_limit_headers({{"Content-Type", "x"}}, test_now);
    EXPECT_FALSE(none.retry_after || none.limit || none.remaining);

    auto bad =
        read_rate_limit_headers({{"RateLimit-Limit", "many"}, {"RateLimit-Remaining", "-1"}}, test_now);
    EXPECT_FALSE(bad.limit || bad.remaining);

    auto fallback = read_rate_limit_headers({{"X-RateLimit-Remaining", "3"}}, test_now);
    EXPECT_EQ(fallback.remaining, 3);
}

TEST(parse_content_range, valid) {
    auto r = parse_content_range("bytes 0-499/1234");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->first, 0u);
    EXPECT_EQ(r->last, 499u);
    EXPECT_EQ(r->total, 1234u);

    r = parse_content_range("Bytes 100-100/*");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->first, 100u);
    EXPECT_EQ(r->last, 100u);
    EXPECT_EQ(r->total, std::nullopt);

    r = parse_content_range("bytes 0-18446744073709551614/18446744073709551615");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->last, 18446744073709551614u);
}

TEST(parse_content_range, invalid) {
    for (std::string_view bad : {"",
                                 "bytes",
                                 "bytes ",
                                 "bytes */1234",
                                 "bytes 5-4/10",
                                 "bytes 0-10/10",
                                 "bytes 0-9/",
                                 "bytes -9/10",
                                 "bytes 0-/10",
                                 "bytes 0-9",
                                 "bytes 0-9/1x",
                                 "bytes=0-9/10",
                                 "items 0-9/10",
                                 "bytes 0 -9/10",
                                 "bytes -1-9/10",
                                 "bytes 0-18446744073709551616/*",
                                 "bytes 0-9/10/11"}) {
        EXPECT_EQ(parse_content_range(bad), std::nullopt) << bad;
    }
}

// The parsers face whatever a server sends: random bytes must never crash them (run under
// ASan/UBSan in the sanitizer build).
TEST(parsers, survive_random_input) {
    std::mt19937 rng(12345);
    const std::string alphabet = "0123456789 -/*,;:bytesGMTFriMarhttps:/@?#[]%\t\r\n\xff";
    for (int i = 0; i < 20000; ++i) {
        std::string s(rng() % 40, ' ');
        for (auto& c : s) {
            c = (rng() % 4 == 0) ? static_cast<char>(rng()) : alphabet[rng() % alphabet.size()];
        }
        (void)parse_retry_after(s, test_now);
        (void)parse_content_range(s);
        (void)parse_https_url(s);
        (void)redact_url(s);
        (void)read_rate_limit_headers({{"Retry-After", s}, {"RateLimit-Limit", s}}, test_now);
    }
}

}  // namespace
}  // namespace atlas_restored::http
