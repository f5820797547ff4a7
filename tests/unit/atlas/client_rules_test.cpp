// The pure decisions of the Atlas client: when a create may be repeated, when it must be
// reconciled first, and which listed job is the one a create made.

#include "atlas/client.hpp"

#include <gtest/gtest.h>

namespace atlas_restored::atlas {
namespace {

error failure(errc code, int status = 0, bool sent = false) {
    error e = make_error(code, "x");
    e.http_status = status;
    e.request_sent = sent;
    return e;
}

TEST(CreateRules, RepeatsOnlyWhenNothingCanHaveBeenCreated) {
    EXPECT_TRUE(create_provably_not_applied(failure(errc::connect_failed, 0, false)));
    EXPECT_TRUE(create_provably_not_applied(failure(errc::rate_limited, 429, true)));
    EXPECT_TRUE(create_provably_not_applied(failure(errc::rate_limited, 400, true)));  // RATE_LIMITED code
    // A 503 proves nothing, even with Retry-After (then its code is rate_limited): a gateway may send
    // it after the create took effect. Only a RATE_LIMITED error code does.
    EXPECT_FALSE(create_provably_not_applied(failure(errc::atlas_error, 503, true)));
    EXPECT_FALSE(create_provably_not_applied(failure(errc::rate_limited, 503, true)));
    auto metered = failure(errc::rate_limited, 503, true);
    metered.atlas_error_code = "RATE_LIMITED_TOKEN_BUCKET";
    EXPECT_TRUE(create_provably_not_applied(metered));
    EXPECT_FALSE(create_provably_not_applied(failure(errc::connect_failed, 0, true)));
    EXPECT_FALSE(create_provably_not_applied(failure(errc::timeout, 0, true)));
    EXPECT_FALSE(create_provably_not_applied(failure(errc::connection_lost, 0, true)));
    EXPECT_FALSE(create_provably_not_applied(failure(errc::atlas_error, 500, true)));
    EXPECT_FALSE(create_provably_not_applied(failure(errc::tls_failed)));
}

TEST(CreateRules, AmbiguousFailuresAreReconciledFirst) {
    EXPECT_TRUE(create_ambiguous(failure(errc::timeout, 0, true)));
    EXPECT_TRUE(create_ambiguous(failure(errc::connection_lost, 0, true)));
    EXPECT_TRUE(create_ambiguous(failure(errc::atlas_error, 500, true)));
    EXPECT_TRUE(create_ambiguous(failure(errc::http_status, 502, true)));
    EXPECT_TRUE(create_ambiguous(failure(errc::atlas_error, 503, true)));
    EXPECT_TRUE(create_ambiguous(failure(errc::rate_limited, 503, true)));  // 503 with Retry-After
    EXPECT_FALSE(create_ambiguous(failure(errc::atlas_error, 400, false)));
    EXPECT_FALSE(create_ambiguous(failure(errc::auth_failed, 401, false)));
    EXPECT_FALSE(create_ambiguous(failure(errc::tls_failed)));
    EXPECT_FALSE(create_ambiguous(failure(errc::timeout, 0, false)));  // timed out connecting
}

TEST(RetryRules, TlsFailuresAndClientErrorsAreNeverRetried) {
    EXPECT_TRUE(is_retryable(failure(errc::connect_failed)));
    EXPECT_TRUE(is_retryable(failure(errc::timeout)));
    EXPECT_TRUE(is_retryable(failure(errc::rate_limited, 429)));
    EXPECT_TRUE(is_retryable(failure(errc::atlas_error, 500)));
    EXPECT_FALSE(is_retryable(failure(errc::tls_failed)));
    EXPECT_FALSE(is_retryable(failure(errc::atlas_error, 404)));
    EXPECT_FALSE(is_retryable(failure(errc::auth_failed, 401)));
    EXPECT_FALSE(is_retryable(failure(errc::bad_response)));
}

restore_job job(std::string created, std::string snapshot, std::string method) {
    restore_job j;
    j.id = "5f1b0c0d0e0f101112131415";
    j.created = std::move(created);
    j.snapshot_id = std::move(snapshot);
    j.delivery_info.method_name = std::move(method);
    return j;
}

TEST(JobMatching, SameSnapshotAndDeliveryCreatedSinceTheIntent) {
    create_restore_job_request request;
    request.snapshot_id = "aaaaaaaaaaaaaaaaaaaaaaaa";
    request.delivery.method_name = "HTTP";
    const auto intent = *parse_iso8601("2026-11-28T12:00:00Z");

    EXPECT_TRUE(job_matches_request(
        job("2026-11-28T12:00:01Z", "aaaaaaaaaaaaaaaaaaaaaaaa", "HTTP"), request, intent));
    EXPECT_TRUE(job_matches_request(
        job("2026-11-28T12:00:00Z", "aaaaaaaaaaaaaaaaaaaaaaaa", "HTTP"), request, intent));
    // Older than the intent: another run's job.
    EXPECT_FALSE(job_matches_request(
        job("2026-11-28T11:59:59Z", "aaaaaaaaaaaaaaaaaaaaaaaa", "HTTP"), request, intent));
    EXPECT_FALSE(job_matches_request(
        job("2026-11-28T12:00:01Z", "bbbbbbbbbbbbbbbbbbbbbbbb", "HTTP"), request, intent));
    EXPECT_FALSE(job_matches_request(
        job("2026-11-28T12:00:01Z", "aaaaaaaaaaaaaaaaaaaaaaaa", "CLIENT_PIT_HTTP"), request, intent));
    EXPECT_FALSE(job_matches_request(job("not a date", "aaaaaaaaaaaaaaaaaaaaaaaa", "HTTP"), request, intent));
    auto no_created = job("x", "aaaaaaaaaaaaaaaaaaaaaaaa", "HTTP");
    no_created.created.reset();
    EXPECT_FALSE(job_matches_request(no_created, request, intent));
}

TEST(JobMatching, AutomatedRestoresAreRecognisedByTheirTarget) {
    create_restore_job_request request;
    request.snapshot_id = "aaaaaaaaaaaaaaaaaaaaaaaa";
    request.delivery.method_name = "AUTOMATED_RESTORE";
    request.delivery.target_group_id = "cccccccccccccccccccccccc";
    request.delivery.target_cluster_name = "drill";
    const auto intent = *parse_iso8601("2026-11-28T12:00:00Z");

    // Atlas reports automated restores as HTTP deliveries.
    auto reported = job("2026-11-28T12:00:05Z", "aaaaaaaaaaaaaaaaaaaaaaaa", "HTTP");
    reported.delivery_info.target_group_id = "cccccccccccccccccccccccc";
    reported.delivery_info.target_cluster_name = "drill";
    EXPECT_TRUE(job_matches_request(reported, request, intent));

    auto other_target = reported;
    other_target.delivery_info.target_cluster_name = "production";
    EXPECT_FALSE(job_matches_request(other_target, request, intent));

    // A plain HTTP download job of the same snapshot is not the automated restore we sent.
    EXPECT_FALSE(job_matches_request(
        job("2026-11-28T12:00:05Z", "aaaaaaaaaaaaaaaaaaaaaaaa", "HTTP"), request, intent));
}

}  // namespace
}  // namespace atlas_restored::atlas
