// Request building and response parsing for the Atlas calls, including envelopes, errors and
// pagination.

#include "atlas/protocol.hpp"

#include <boost/json/parse.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace atlas_restored::atlas {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr const char* group = "32b6e34b3d91647abb20e7b8";
const auto now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 28} + 12h;

std::string header(const http::request& r, std::string_view name) {
    std::string out;
    int count = 0;
    for (const auto& h : r.headers) {
        if (h.name == name) {
            out = h.value;
            ++count;
        }
    }
    EXPECT_LE(count, 1) << name;
    return out;
}

http::response respond(int status, std::string body, http::header_list headers = {}) {
    http::response r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

constexpr const char* job_json = R"({"id":"5a66783b80eef5354c77ee16","statusName":"IN_PROGRESS",
    "delivery":{"methodName":"HTTP","statusName":"NOT_STARTED"}})";

TEST(Protocol, MediaType) {
    EXPECT_EQ(media_type({}), "application/vnd.atlas.2023-01-01+json");
    api_settings s;
    s.api_version = "2025-02-19";
    EXPECT_EQ(media_type(s), "application/vnd.atlas.2025-02-19+json");
}

TEST(Protocol, PercentEncoding) {
    EXPECT_EQ(percent_encode("Az09-._~"), "Az09-._~");
    EXPECT_EQ(percent_encode("a b/c?d&e=f%"), "a%20b%2Fc%3Fd%26e%3Df%25");
    EXPECT_EQ(percent_encode(std::string("\0\xff", 2)), "%00%FF");
    EXPECT_EQ(cluster_path("../x", "c/d"), "/api/atlas/v2/groups/..%2Fx/clusters/c%2Fd");
}

TEST(Protocol, BuildCreateRestoreJob) {
    create_restore_job_request body;
    body.snapshot_id = "5f1b2c3d4e5f6a7b8c9d0e1f";
    body.delivery.method_name = "HTTP";
    body.delivery.expiration_hours = 4;
    body.delivery.max_downloads = 2;
    const http::request r = build_create_restore_job({}, group, "orders-prod", body);
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/api/atlas/v2/groups/32b6e34b3d91647abb20e7b8/clusters/orders-prod/restoreJobs");
    EXPECT_EQ(header(r, "Accept"), "application/vnd.atlas.2023-01-01+json");
    EXPECT_EQ(header(r, "Content-Type"), "application/vnd.atlas.2023-01-01+json");
    EXPECT_EQ(json::parse(r.body),
              json::parse(R"({"delivery":{"methodName":"HTTP","expirationHours":4,"maxDownloads":2},
                              "snapshotId":"5f1b2c3d4e5f6a7b8c9d0e1f"})"));
}

TEST(Protocol, EnvelopeAndPrettyOnlyWhenSet) {
    api_settings s;
    s.envelope = true;
    create_restore_job_request body;
    body.delivery.method_name = "HTTP";
    EXPECT_EQ(build_create_restore_job(s, group, "c", body).target,
              "/api/atlas/v2/groups/32b6e34b3d91647abb20e7b8/clusters/c/restoreJobs?envelope=true");
    s.pretty = true;
    EXPECT_EQ(build_get_restore_job(s, group, "c", "5a66783b80eef5354c77ee16").target,
              "/api/atlas/v2/groups/32b6e34b3d91647abb20e7b8/clusters/c/restoreJobs/5a66783b80eef5354c77ee16"
              "?envelope=true&pretty=true");
    s.envelope = false;
    EXPECT_EQ(build_get_restore_job(s, group, "c", "j").target,
              "/api/atlas/v2/groups/32b6e34b3d91647abb20e7b8/clusters/c/restoreJobs/j?pretty=true");
    EXPECT_EQ(build_get_restore_job({}, group, "c", "j").target,
              "/api/atlas/v2/groups/32b6e34b3d91647abb20e7b8/clusters/c/restoreJobs/j");
}

TEST(Protocol, BuildListAndGet) {
    const http::request list =
        build_list_restore_jobs({}, group, "orders-prod", "5a66783b80eef5354c77ee13", 2, 500);
    EXPECT_EQ(list.method, "GET");
    EXPECT_EQ(list.target,
              "/api/atlas/v2/groups/32b6e34b3d91647abb20e7b8/clusters/orders-prod/restoreJobs"
              "?batchId=5a66783b80eef5354c77ee13&pageNum=2&itemsPerPage=500&includeCount=true");
    EXPECT_EQ(header(list, "Accept"), "application/vnd.atlas.2023-01-01+json");
    EXPECT_EQ(header(list, "Content-Type"), "");
    EXPECT_TRUE(list.body.empty());

    EXPECT_EQ(build_list_restore_jobs({}, group, "c", std::nullopt, 1, 100).target,
              "/api/atlas/v2/groups/32b6e34b3d91647abb20e7b8/clusters/c/restoreJobs"
              "?pageNum=1&itemsPerPage=100&includeCount=true");

    const http::request get = build_get_restore_job({}, group, "c", "5a66783b80eef5354c77ee16");
    EXPECT_EQ(get.method, "GET");
    EXPECT_EQ(header(get, "Accept"), "application/vnd.atlas.2023-01-01+json");

    api_settings s;
    s.envelope = true;
    EXPECT_EQ(build_list_snapshots(s, group, "c", 1, 10).target,
              "/api/atlas/v2/groups/32b6e34b3d91647abb20e7b8/clusters/c/snapshots"
              "?completed=true&pageNum=1&itemsPerPage=10&includeCount=true&envelope=true");
    EXPECT_EQ(build_list_checkpoints({}, group, "c", 3, 50).target,
              "/api/atlas/v2/groups/32b6e34b3d91647abb20e7b8/clusters/c/backupCheckpoints"
              "?pageNum=3&itemsPerPage=50&includeCount=true");
}

TEST(Protocol, ParsesPlainResponses) {
    auto job = parse_restore_job(respond(200, job_json), {}, now);
    ASSERT_TRUE(job) << job.error().message;
    EXPECT_EQ(job->id, "5a66783b80eef5354c77ee16");
    EXPECT_EQ(job->delivery_info.status_name, "NOT_STARTED");

    auto page = parse_restore_job_page(
        respond(200, std::string(R"({"results":[)") + job_json + R"(],"totalCount":1,"links":[]})"), {}, now);
    ASSERT_TRUE(page) << page.error().message;
    EXPECT_EQ(page->results.size(), 1u);
    EXPECT_FALSE(page->envelope_status);

    auto snaps = parse_snapshot_page(respond(200, R"({"results":[{"id":"s","complete":true}]})"), {}, now);
    ASSERT_TRUE(snaps);
    EXPECT_TRUE(snaps->results[0].complete);
    auto cps = parse_checkpoint_page(respond(200, R"({"results":[{"id":"c"}],"totalCount":1})"), {}, now);
    ASSERT_TRUE(cps);
    EXPECT_EQ(cps->results[0].id, "c");
}

TEST(Protocol, ParsesPrettyResponses) {
    api_settings s;
    s.pretty = true;
    const std::string pretty =
        "{\n  \"results\" : [ {\n    \"id\" : \"5a66783b80eef5354c77ee16\",\n"
        "    \"delivery\" : {\n      \"methodName\" : \"HTTP\"\n    }\n  } ],\n"
        "  \"totalCount\" : 1\n}\n";
    auto page = parse_restore_job_page(respond(200, pretty), s, now);
    ASSERT_TRUE(page) << page.error().message;
    EXPECT_EQ(page->results[0].id, "5a66783b80eef5354c77ee16");
}

TEST(Protocol, UnwrapsEnvelopes) {
    api_settings s;
    s.envelope = true;
    auto page =
        parse_restore_job_page(respond(200,
                                       std::string(R"({"status":200,"results":[)") + job_json +
                                           R"(],"totalCount":1,"links":[{"rel":"self","href":"x"}]})"),
                               s,
                               now);
    ASSERT_TRUE(page) << page.error().message;
    EXPECT_EQ(page->envelope_status, 200);
    EXPECT_EQ(page->total_count, 1);
    EXPECT_EQ(page->results[0].id, "5a66783b80eef5354c77ee16");

    auto job =
        parse_restore_job(respond(200, std::string(R"({"status":200,"content":)") + job_json + "}"), s, now);
    ASSERT_TRUE(job) << job.error().message;
    EXPECT_EQ(job->status_name, "IN_PROGRESS");

    // A list wrapped in "content" is accepted too, keeping the status.
    auto wrapped =
        parse_snapshot_page(respond(200, R"({"status":200,"content":{"results":[{"id":"s"}]}})"), s, now);
    ASSERT_TRUE(wrapped) << wrapped.error().message;
    EXPECT_EQ(wrapped->envelope_status, 200);
    EXPECT_EQ(wrapped->results[0].id, "s");

    // Pretty and enveloped at once.
    s.pretty = true;
    auto both = parse_restore_job(
        respond(200, std::string("{\n  \"status\" : 200,\n  \"content\" : ") + job_json + "\n}"), s, now);
    ASSERT_TRUE(both) << both.error().message;

    // An envelope without content for a single resource is malformed.
    auto empty = parse_restore_job(respond(200, R"({"status":200})"), s, now);
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().code, errc::bad_response);
    auto bad_status = parse_restore_job(respond(200, R"({"status":"200","content":{}})"), s, now);
    ASSERT_FALSE(bad_status);
    EXPECT_EQ(bad_status.error().code, errc::bad_response);
}

TEST(Protocol, EnvelopedErrorsAreErrors) {
    api_settings s;
    s.envelope = true;
    auto nf =
        parse_restore_job(respond(200,
                                  R"({"status":404,"content":{"error":404,"errorCode":"RESOURCE_NOT_FOUND",
                    "detail":"Cannot find resource","reason":"Not Found"}})"),
                          s,
                          now);
    ASSERT_FALSE(nf);
    EXPECT_EQ(nf.error().code, errc::atlas_error);
    EXPECT_EQ(nf.error().http_status, 404);
    EXPECT_EQ(nf.error().atlas_error_code, "RESOURCE_NOT_FOUND");
    EXPECT_EQ(nf.error().detail, "Cannot find resource");

    // At the top level instead of in content.
    auto rl = parse_restore_job_page(
        respond(200,
                R"({"status":429,"error":429,"errorCode":"RATE_LIMITED_TOKEN_BUCKET","detail":"slow",
                    "reason":"Too Many Requests"})",
                {{"Retry-After", "12"}}),
        s,
        now);
    ASSERT_FALSE(rl);
    EXPECT_EQ(rl.error().code, errc::rate_limited);
    EXPECT_EQ(rl.error().http_status, 429);
    EXPECT_EQ(rl.error().retry_after, 12s);

    // An enveloped failure without an ApiError.
    auto bare = parse_snapshot_page(respond(200, R"({"status":502})"), s, now);
    ASSERT_FALSE(bare);
    EXPECT_EQ(bare.error().code, errc::http_status);
    EXPECT_EQ(bare.error().http_status, 502);
}

TEST(Protocol, RateLimited429WithRetryAfter) {
    const http::response r = respond(
        429,
        R"({"detail":"Rate limit exceeded for api/atlas/v2/orgs. Please retry after 55 seconds.","error":429,
            "errorCode":"RATE_LIMITED_TOKEN_BUCKET","parameters":["api/atlas/v2/orgs",55,10,5,60],
            "reason":"Too Many Requests"})",
        {{"Content-Type", "application/json"}, {"retry-after", "55"}});
    const error e = error_from_response(r, now);
    EXPECT_EQ(e.code, errc::rate_limited);
    EXPECT_EQ(e.http_status, 429);
    EXPECT_EQ(e.atlas_error_code, "RATE_LIMITED_TOKEN_BUCKET");
    EXPECT_THAT(e.detail, HasSubstr("Please retry after 55 seconds"));
    EXPECT_EQ(e.reason, "Too Many Requests");
    EXPECT_EQ(e.retry_after, 55s);
    EXPECT_FALSE(e.request_sent);
    EXPECT_THAT(to_string(e), HasSubstr("HTTP 429 RATE_LIMITED_TOKEN_BUCKET"));

    // The same through a parser.
    auto job = parse_restore_job(r, {}, now);
    ASSERT_FALSE(job);
    EXPECT_EQ(job.error().code, errc::rate_limited);
}

TEST(Protocol, RetryAfterAsHttpDate) {
    const error e =
        error_from_response(respond(429, "", {{"Retry-After", "Sat, 28 Nov 2026 12:01:00 GMT"}}), now);
    EXPECT_EQ(e.code, errc::rate_limited);
    EXPECT_EQ(e.retry_after, 60s);
    EXPECT_EQ(e.atlas_error_code, "");
}

TEST(Protocol, RateLimitedErrorCodeWithStatus400) {
    const error e = error_from_response(respond(400,
                                                R"({"error":400,"errorCode":"INVITATIONS_RATE_LIMITED_IP",
                    "detail":"Rate limit of 10 invitations per 1 minutes exceeded","reason":"Bad Request"})"),
                                        now);
    EXPECT_EQ(e.code, errc::rate_limited);
    EXPECT_EQ(e.http_status, 400);
    EXPECT_FALSE(e.retry_after);

    const error legacy = error_from_response(
        respond(
            429,
            R"({"error":429,"errorCode":"RATE_LIMITED","detail":"limited","reason":"Too Many Requests"})"),
        now);
    EXPECT_EQ(legacy.code, errc::rate_limited);
}

TEST(Protocol, ServiceUnavailable) {
    EXPECT_EQ(error_from_response(respond(503, "", {{"Retry-After", "5"}}), now).code, errc::rate_limited);
    const error plain = error_from_response(
        respond(
            503,
            R"({"error":503,"errorCode":"SERVICE_UNAVAILABLE","detail":null,"reason":"Service Unavailable"})"),
        now);
    EXPECT_EQ(plain.code, errc::atlas_error);
    EXPECT_TRUE(plain.request_sent);
}

TEST(Protocol, NotFoundAndAuthErrors) {
    const error nf =
        error_from_response(respond(404,
                                    R"({"error":404,"detail":"Cannot find resource AWS","reason":"Not Found",
                    "errorCode":"RESOURCE_NOT_FOUND"})"),
                            now);
    EXPECT_EQ(nf.code, errc::atlas_error);
    EXPECT_EQ(nf.http_status, 404);
    EXPECT_EQ(nf.atlas_error_code, "RESOURCE_NOT_FOUND");
    EXPECT_EQ(nf.detail, "Cannot find resource AWS");
    EXPECT_EQ(nf.reason, "Not Found");
    EXPECT_EQ(nf.message, "Cannot find resource AWS");
    EXPECT_FALSE(nf.request_sent);

    const error unauthorized = error_from_response(
        respond(401, R"({"error":401,"errorCode":"NOT_ORG_GROUP_CREATOR","reason":"Unauthorized"})"), now);
    EXPECT_EQ(unauthorized.code, errc::auth_failed);
    EXPECT_EQ(unauthorized.atlas_error_code, "NOT_ORG_GROUP_CREATOR");
    EXPECT_EQ(error_from_response(respond(403, ""), now).code, errc::auth_failed);
}

TEST(Protocol, NonJsonErrorIsHttpStatus) {
    const error e = error_from_response(
        respond(502, "<html><body>Bad Gateway</body></html>", {{"Content-Type", "text/html"}}), now);
    EXPECT_EQ(e.code, errc::http_status);
    EXPECT_EQ(e.http_status, 502);
    EXPECT_TRUE(e.atlas_error_code.empty());
    EXPECT_TRUE(e.request_sent);
    EXPECT_THAT(to_string(e), HasSubstr("HTTP 502"));

    // JSON, but not ApiError.
    EXPECT_EQ(error_from_response(respond(500, R"({"message":"oops"})"), now).code, errc::http_status);
    EXPECT_EQ(error_from_response(respond(500, R"([1,2])"), now).code, errc::http_status);
    EXPECT_EQ(error_from_response(respond(500, ""), now).code, errc::http_status);
    auto job = parse_restore_job(respond(502, "Bad Gateway"), {}, now);
    ASSERT_FALSE(job);
    EXPECT_EQ(job.error().code, errc::http_status);
}

TEST(Protocol, MalformedSuccessBodiesAreBadResponse) {
    const std::string deep(100000, '[');
    for (const std::string& body : {std::string(""),
                                    std::string("not json"),
                                    std::string(R"({"results":[)"),
                                    std::string(R"({"results":"none"})"),
                                    std::string(R"({"results":[{"id":1}]})"),
                                    std::string(R"({"results":[],"totalCount":1e999})"),
                                    std::string(R"({"results":[],"totalCount":99999999999999999999999})"),
                                    std::string(R"({"results":[],"totalCount":"3"})"),
                                    deep,
                                    std::string("[") + deep,
                                    std::string(R"({"results":[]} trailing)"),
                                    std::string("\xff\xfe{}")}) {
        SCOPED_TRACE(body.substr(0, 60));
        for (const bool envelope : {false, true}) {
            api_settings s;
            s.envelope = envelope;
            auto page = parse_restore_job_page(respond(200, body), s, now);
            ASSERT_FALSE(page);
            EXPECT_EQ(page.error().code, errc::bad_response);
            EXPECT_EQ(page.error().http_status, 200);
            auto job = parse_restore_job(respond(200, body), s, now);
            ASSERT_FALSE(job);
            EXPECT_EQ(job.error().code, errc::bad_response);
        }
    }
    // Hostile error bodies are just "no ApiError".
    EXPECT_EQ(error_from_response(respond(500, deep), now).code, errc::http_status);
    EXPECT_EQ(error_from_response(respond(500, R"({"error":1e999,"errorCode":"X"})"), now).code,
              errc::http_status);
}

TEST(Protocol, NextPageFollowsNextLink) {
    page<int> p;
    p.results = {1, 2};
    p.links = {{"https://cloud.mongodb.com/x?pageNum=1", "self"},
               {"https://cloud.mongodb.com/x?pageNum=2", "next"}};
    EXPECT_EQ(next_page_number(p, 1, 100), 2);  // a short page, but the server says there is more
    p.total_count = 2;
    EXPECT_EQ(next_page_number(p, 1, 2), 2);  // the link wins over an estimated count
}

TEST(Protocol, NextPageUsesTotalCount) {
    page<int> p;
    p.results = {1, 2, 3};
    p.total_count = 7;
    EXPECT_EQ(next_page_number(p, 1, 3), 2);
    EXPECT_EQ(next_page_number(p, 2, 3), 3);
    EXPECT_EQ(next_page_number(p, 3, 3), std::nullopt);
    p.total_count = 6;
    EXPECT_EQ(next_page_number(p, 2, 3), std::nullopt);
    p.total_count = 0;
    EXPECT_EQ(next_page_number(p, 1, 3), std::nullopt);
}

TEST(Protocol, NextPageStopsOnShortPage) {
    page<int> p;
    p.results = {1, 2, 3};
    EXPECT_EQ(next_page_number(p, 1, 3), 2);  // full page, no count: ask for more
    p.results = {1, 2};
    EXPECT_EQ(next_page_number(p, 1, 3), std::nullopt);
    p.results = {};
    EXPECT_EQ(next_page_number(p, 1, 3), std::nullopt);
}

TEST(Protocol, NextPageAlwaysEnds) {
    // A server that always claims more: a next link, a huge count and full pages.
    page<int> p;
    p.results = {1};
    p.links = {{"x", "next"}};
    p.total_count = INT64_MAX;
    int pages = 1;
    std::optional<int> n = 1;
    while ((n = next_page_number(p, *n, 1))) {
        ++pages;
        ASSERT_LE(pages, max_list_pages + 1);
    }
    EXPECT_EQ(pages, max_list_pages);
    // An empty page ends it even with a next link.
    p.results.clear();
    EXPECT_EQ(next_page_number(p, 1, 1), std::nullopt);
    // Nonsense arguments.
    p.results = {1};
    EXPECT_EQ(next_page_number(p, 0, 1), std::nullopt);
    EXPECT_EQ(next_page_number(p, 1, 0), std::nullopt);
    EXPECT_EQ(next_page_number(p, -5, -5), std::nullopt);
    // No int overflow on page * size.
    page<int> big;
    big.results = {1};
    big.total_count = INT64_MAX;
    EXPECT_EQ(next_page_number(big, 9999, 2147483647), 10000);
    EXPECT_EQ(next_page_number(big, max_list_pages, 2147483647), std::nullopt);  // at the cap
}

}  // namespace
}  // namespace atlas_restored::atlas
