// Service-account tokens: the token request, its answer, and the cache on a manual clock.

#include "atlas/oauth.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

namespace atlas_restored::atlas {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

std::string header(const http::request& r, std::string_view name) {
    for (const auto& h : r.headers) {
        if (h.name == name) {
            return h.value;
        }
    }
    return {};
}

http::response respond(int status, std::string body, http::header_list headers = {}) {
    http::response r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

const auto wall_now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 28};

TEST(OAuth, BuildsTheTokenRequest) {
    const http::request r = build_token_request("mdb_sa_id_0123", "mdb_sa_sk_secret");
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/api/oauth/token");
    // base64("mdb_sa_id_0123:mdb_sa_sk_secret")
    EXPECT_EQ(header(r, "Authorization"), "Basic bWRiX3NhX2lkXzAxMjM6bWRiX3NhX3NrX3NlY3JldA==");
    EXPECT_EQ(header(r, "Content-Type"), "application/x-www-form-urlencoded");
    EXPECT_EQ(header(r, "Accept"), "application/json");
    EXPECT_EQ(r.body, "grant_type=client_credentials");
}

TEST(OAuth, UrlEncodesCredentialsBeforeBase64) {
    // "a b:c" and "p&=:%" become "a+b%3Ac:p%26%3D%3A%25" (RFC 6749 §2.3.1).
    const http::request r = build_token_request("a b:c", "p&=:%");
    EXPECT_EQ(header(r, "Authorization"), "Basic YStiJTNBYzpwJTI2JTNEJTNBJTI1");
    EXPECT_EQ(bearer_authorization("tok"), "Bearer tok");
}

TEST(OAuth, ParsesTheTokenResponse) {
    auto t = parse_token_response(
        respond(200, R"({"access_token":"eyJhbGciOi.abc.def","expires_in":3600,"token_type":"Bearer"})"),
        wall_now);
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(t->access_token, "eyJhbGciOi.abc.def");
    EXPECT_EQ(t->token_type, "Bearer");
    EXPECT_EQ(t->expires_in, 3600);

    auto lower =
        parse_token_response(respond(200, R"({"access_token":"x","token_type":"bearer"})"), wall_now);
    ASSERT_TRUE(lower);
    EXPECT_EQ(lower->expires_in, 0);
}

TEST(OAuth, MalformedTokenResponses) {
    for (const char* body : {"",
                             "nope",
                             "[]",
                             R"({"token_type":"Bearer","expires_in":3600})",
                             R"({"access_token":"","expires_in":3600})",
                             R"({"access_token":5})",
                             R"({"access_token":"x","token_type":"MAC"})",
                             R"({"access_token":"x","token_type":1})",
                             R"({"access_token":"x","expires_in":"3600"})",
                             R"({"access_token":"x","expires_in":-1})",
                             R"({"access_token":"x","expires_in":1.5})",
                             R"({"access_token":"x","expires_in":1e999})"}) {
        SCOPED_TRACE(body);
        auto t = parse_token_response(respond(200, body), wall_now);
        ASSERT_FALSE(t);
        EXPECT_EQ(t.error().code, errc::bad_response);
        EXPECT_THAT(t.error().message, ::testing::Not(HasSubstr("secret")));
    }
}

TEST(OAuth, RefusedCredentialsAreAuthFailed) {
    for (const int status : {400, 401, 403}) {
        auto t = parse_token_response(
            respond(status, R"({"error":"invalid_client","error_description":"Invalid client credentials"})"),
            wall_now);
        ASSERT_FALSE(t);
        EXPECT_EQ(t.error().code, errc::auth_failed) << status;
        EXPECT_EQ(t.error().http_status, status);
        EXPECT_THAT(t.error().message, HasSubstr("invalid_client (Invalid client credentials)"));
    }
    auto rl = parse_token_response(
        respond(
            429,
            R"({"detail":"Resource /api/oauth/token is limited to 50 requests every 1 minutes.","error":429,
                    "errorCode":"RATE_LIMITED","parameters":["/api/oauth/token",50,1],"reason":"Too Many Requests"})",
            {{"Retry-After", "30"}}),
        wall_now);
    ASSERT_FALSE(rl);
    EXPECT_EQ(rl.error().code, errc::rate_limited);
    EXPECT_EQ(rl.error().retry_after, 30s);
    auto down = parse_token_response(respond(502, "<html/>"), wall_now);
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error().code, errc::http_status);
}

TEST(OAuth, CacheServesUntilShortlyBeforeExpiry) {
    using clock = std::chrono::steady_clock;
    const clock::time_point t0{1000h};
    token_cache cache;
    EXPECT_FALSE(cache.token(t0));
    EXPECT_FALSE(cache.refresh_at());

    cache.store({"tok-1", "Bearer", 3600}, t0);
    EXPECT_EQ(cache.token(t0), "tok-1");
    EXPECT_EQ(cache.token(t0 + 54min), "tok-1");
    // 3600 s lives until t0+60min; the margin is min(5 min, 6 min) = 5 min.
    EXPECT_EQ(cache.token(t0 + 55min - 1s), "tok-1");
    EXPECT_FALSE(cache.token(t0 + 55min));
    EXPECT_FALSE(cache.token(t0 + 2h));
    EXPECT_EQ(cache.refresh_at(), t0 + 55min);

    // Refreshed after.
    cache.store({"tok-2", "Bearer", 3600}, t0 + 55min);
    EXPECT_EQ(cache.token(t0 + 56min), "tok-2");
}

TEST(OAuth, ShortLifetimesUseTenPercentMargin) {
    const std::chrono::steady_clock::time_point t0{};
    token_cache cache;
    cache.store({"short", "Bearer", 600}, t0);  // margin min(300, 60) = 60 s
    EXPECT_EQ(cache.token(t0 + 539s), "short");
    EXPECT_FALSE(cache.token(t0 + 540s));

    cache.store({"unknown", "Bearer", 0}, t0);  // lifetime unknown: 300 s with a 30 s margin
    EXPECT_EQ(cache.token(t0 + 269s), "unknown");
    EXPECT_FALSE(cache.token(t0 + 270s));

    cache.store({"huge", "Bearer", INT64_MAX}, t0);  // clamped to a day, no overflow
    EXPECT_EQ(cache.token(t0 + 23h), "huge");
    EXPECT_FALSE(cache.token(t0 + 24h));
}

TEST(OAuth, InvalidateForcesRefresh) {
    const std::chrono::steady_clock::time_point t0{5h};
    token_cache cache;
    cache.store({"tok", "Bearer", 3600}, t0);
    ASSERT_TRUE(cache.token(t0 + 1s));
    cache.invalidate();
    EXPECT_FALSE(cache.token(t0 + 1s));
    EXPECT_FALSE(cache.refresh_at());
}

}  // namespace
}  // namespace atlas_restored::atlas
