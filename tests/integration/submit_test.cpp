// The real `atlas-restored submit` binary against the real `fake-atlas` over TLS (issue 2).

#include "fixture.hpp"
#include "http/pki.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <chrono>

namespace atlas_restored::testing {
namespace {

using namespace std::chrono_literals;

class SubmitTest : public ::testing::Test {
  protected:
    temp_dir dir_{"submit-test"};

    std::vector<std::string> submit_args(const std::filesystem::path& config,
                                         const std::string& cluster,
                                         std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"submit",
                                         "--config",
                                         config.string(),
                                         "--group-id",
                                         test_group_id,
                                         "--cluster",
                                         cluster,
                                         "--latest-snapshot",
                                         "--method",
                                         "HTTP"};
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
    }

    // The last JSON document the command printed on stdout.
    static boost::json::value last_document(const std::string& out) {
        const auto start = out.rfind("\n{\"results\"");
        return boost::json::parse(start == std::string::npos ? out : out.substr(start + 1));
    }
};

TEST_F(SubmitTest, ShardedCreateWithServiceAccountReturnsOneBatchAndWaitsUntilReady) {
    fake_atlas_server fake(dir_.path(), {"--job-seconds", "1"});
    const auto config = write_config(dir_.path(), fake);
    const auto r = run_atlas_restored(submit_args(config, "sh0", {"--wait", "--poll-interval", "0.3"}));
    ASSERT_EQ(r.status, 0) << r.err;

    // 3 shards + the config server: four jobs, one batchId.
    const auto created = boost::json::parse(r.out.substr(0, r.out.find('\n')));
    const auto& jobs = created.at("results").as_array();
    ASSERT_EQ(jobs.size(), 4u);
    const auto batch = jobs[0].at("batchId").as_string();
    for (const auto& job : jobs) {
        EXPECT_EQ(job.at("batchId").as_string(), batch);
    }
    const auto final_state = last_document(r.out);
    for (const auto& job : final_state.at("results").as_array()) {
        EXPECT_EQ(job.at("statusName").as_string(), "FINISHED");
        EXPECT_EQ(job.at("delivery").at("statusName").as_string(), "READY");
        // Secrets never printed without --show-secrets.
        EXPECT_EQ(job.at("delivery").at("authValue").as_string(), "REDACTED");
    }
    const auto counters = fake.counters();
    EXPECT_EQ(counter(counters, "creates"), 1);
    EXPECT_EQ(counter(counters, "token_requests"), 1);  // cached for every later call
    // The batch is polled with one list call per interval, never one GET per job.
    EXPECT_EQ(
        counter(counters,
                "requests.GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/restoreJobs/{jobId}"),
        0);
    EXPECT_GE(
        counter(counters, "requests.GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/restoreJobs"),
        1);
}

TEST_F(SubmitTest, DigestReusesTheNonceSoEachCallIsOneRoundTripOnOneConnection) {
    fake_atlas_server fake(dir_.path(), {"--job-seconds", "1"});
    const auto config = write_config(dir_.path(), fake, {.auth = auth_mode::api_key});
    const auto r = run_atlas_restored(submit_args(config, "rs0", {"--wait", "--poll-interval", "0.2"}));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto counters = fake.counters();
    const auto total = counter(counters, "requests_total");
    EXPECT_GE(total, 4);                                // snapshots, create, at least two polls
    EXPECT_EQ(counter(counters, "challenges_401"), 1);  // only the very first call is challenged
    EXPECT_EQ(counter(counters, "responses.401"), 1);
    EXPECT_EQ(counter(counters, "tls_connections"), 1);  // keep-alive: one handshake for everything
    EXPECT_EQ(counter(counters, "max_requests_per_connection"), total);
    EXPECT_EQ(counter(counters, "creates"), 1);
}

TEST_F(SubmitTest, StaleNonceIsAnsweredByReChallengingOnce) {
    fake_atlas_server fake(dir_.path(), {"--job-seconds", "2", "--nonce-ttl", "1"});
    const auto config = write_config(dir_.path(), fake, {.auth = auth_mode::api_key});
    const auto r = run_atlas_restored(submit_args(config, "rs0", {"--wait", "--poll-interval", "0.7"}));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto counters = fake.counters();
    EXPECT_GE(counter(counters, "stale_nonces"), 1);
    EXPECT_EQ(counter(counters, "auth_failures"), 0);
    EXPECT_EQ(counter(counters, "creates"), 1);
}

TEST_F(SubmitTest, RateLimitedCreateHonoursRetryAfterAndCreatesOnce) {
    fake_atlas_server fake(dir_.path());
    fake.add_fault(R"({"kind":"rate_limit","count":1,"retry_after":2,"match":"POST */restoreJobs"})");
    const auto config = write_config(dir_.path(), fake);
    const auto started = std::chrono::steady_clock::now();
    const auto r = run_atlas_restored(submit_args(config, "rs0"));
    const auto took = std::chrono::steady_clock::now() - started;
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_GE(took, 2s);  // Retry-After: 2 was honoured, not a 100 ms backoff
    const auto counters = fake.counters();
    EXPECT_EQ(counter(counters, "rate_limited_429"), 1);
    EXPECT_EQ(counter(counters, "creates"), 1);
}

TEST_F(SubmitTest, RateLimitHeadersAreSurfaced) {
    fake_atlas_server fake(dir_.path(), {"--rate-capacity", "50", "--rate-refill-per-minute", "50"});
    const auto config = write_config(dir_.path(), fake);
    const auto r = run_atlas_restored(submit_args(config, "rs0"));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("Atlas rate limit: 48 requests left of 50"), std::string::npos) << r.err;
}

TEST_F(SubmitTest, ServerErrorsOnGetsAreRetried) {
    fake_atlas_server fake(dir_.path());
    fake.add_fault(R"({"kind":"status","status":503,"count":2,"match":"GET */snapshots"})");
    fake.add_fault(R"({"kind":"status","status":500,"count":1,"match":"GET */snapshots"})");
    const auto config = write_config(dir_.path(), fake);
    const auto r = run_atlas_restored(submit_args(config, "rs0"));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto counters = fake.counters();
    EXPECT_EQ(counter(counters, "responses.503"), 2);
    EXPECT_EQ(counter(counters, "responses.500"), 1);
    EXPECT_EQ(counter(counters, "creates"), 1);
}

TEST_F(SubmitTest, AmbiguousCreateIsReconciledByListingInsteadOfPostingAgain) {
    fake_atlas_server fake(dir_.path());
    fake.add_fault(R"({"kind":"ambiguous_create","count":1})");
    const auto config = write_config(dir_.path(), fake);
    const auto r = run_atlas_restored(submit_args(config, "sh0"));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("adopted"), std::string::npos) << r.err;
    const auto counters = fake.counters();
    EXPECT_EQ(
        counter(counters, "requests.POST /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/restoreJobs"),
        1);
    EXPECT_EQ(counter(counters, "jobs_created"), 4);  // one batch, adopted whole
    const auto printed = boost::json::parse(r.out.substr(0, r.out.find('\n')));
    EXPECT_EQ(printed.at("results").as_array().size(), 4u);
}

TEST_F(SubmitTest, ServerErrorAfterTheCreateWasSentIsReconciledNotRetriedBlindly) {
    fake_atlas_server fake(dir_.path());
    // A 500 on the create: the job may exist. The fake created nothing, so the listing proves it
    // and only then is the POST repeated.
    fake.add_fault(R"({"kind":"status","status":500,"count":1,"match":"POST */restoreJobs"})");
    const auto config = write_config(dir_.path(), fake);
    const auto r = run_atlas_restored(submit_args(config, "rs0"));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto counters = fake.counters();
    EXPECT_EQ(
        counter(counters, "requests.POST /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/restoreJobs"),
        2);
    EXPECT_GE(
        counter(counters, "requests.GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/restoreJobs"),
        1);
    EXPECT_EQ(counter(counters, "jobs_created"), 1);
}

TEST_F(SubmitTest, ExpiredTokenIsRefreshed) {
    fake_atlas_server fake(dir_.path(), {"--job-seconds", "3", "--token-ttl", "1"});
    const auto config = write_config(dir_.path(), fake);
    const auto r = run_atlas_restored(submit_args(config, "rs0", {"--wait", "--poll-interval", "0.5"}));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto counters = fake.counters();
    EXPECT_GE(counter(counters, "token_requests"), 2);
    EXPECT_EQ(counter(counters, "auth_failures"), 0);
}

TEST_F(SubmitTest, RevokedTokenIsRefreshedOnceOn401) {
    fake_atlas_server fake(dir_.path());
    fake.add_fault(R"({"kind":"status","status":401,"count":1,"match":"POST */restoreJobs"})");
    const auto config = write_config(dir_.path(), fake);
    const auto r = run_atlas_restored(submit_args(config, "rs0"));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto counters = fake.counters();
    EXPECT_EQ(counter(counters, "token_requests"), 2);
    EXPECT_EQ(counter(counters, "creates"), 1);
}

TEST_F(SubmitTest, WrongHostCertificateIsRefusedAndNothingIsSent) {
    // A server certificate from the right CA but for another name.
    const auto tls = dir_.path() / "tls";
    ASSERT_TRUE(http::generate_ca(tls, "test CA"));
    ASSERT_TRUE(http::issue_certificate(tls, tls / "server.pem", tls / "server-key.pem", {"wrong.example"}));
    fake_atlas_server fake(dir_.path(), {"--verbose"});
    const auto config = write_config(dir_.path(), fake);
    const auto r = run_atlas_restored(submit_args(config, "rs0"), 30s);
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("127.0.0.1"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("TLS"), std::string::npos) << r.err;
    // The control API sits behind the same (refused) certificate: the fake's own request lines
    // (--verbose) show that no API request ever reached it.
    EXPECT_EQ(fake.proc().stderr_text().find("/api/atlas"), std::string::npos) << fake.proc().stderr_text();
}

TEST_F(SubmitTest, UntrustedCaIsRefusedAtOnce) {
    fake_atlas_server fake(dir_.path());
    const auto other = dir_.path() / "other-ca";
    ASSERT_TRUE(http::generate_ca(other, "someone else"));
    const auto config = write_config(dir_.path(), fake, {.ca_file = (other / "ca.pem").string()});
    const auto started = std::chrono::steady_clock::now();
    const auto r = run_atlas_restored(submit_args(config, "rs0"), 30s);
    EXPECT_EQ(r.status, 1);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);  // never retried
    EXPECT_NE(r.err.find("TLS verification of 127.0.0.1"), std::string::npos) << r.err;
    EXPECT_EQ(counter(fake.counters(), "requests_total"), 0);
}

TEST_F(SubmitTest, InvalidInputExitsTwoAndSendsNothing) {
    fake_atlas_server fake(dir_.path());
    const auto config = write_config(dir_.path(), fake);
    const auto r = run_atlas_restored({"submit",
                                       "--config",
                                       config.string(),
                                       "--group-id",
                                       "not-hex",
                                       "--cluster",
                                       "rs0",
                                       "--checkpoint-id",
                                       "5f1b0c0d0e0f101112131415",
                                       "--method",
                                       "HTTP"});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("--group-id"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("checkpointId"), std::string::npos) << r.err;  // only with AUTOMATED_RESTORE
    EXPECT_EQ(counter(fake.counters(), "requests_total"), 0);

    const auto overwrite = run_atlas_restored({"submit",
                                               "--config",
                                               config.string(),
                                               "--group-id",
                                               test_group_id,
                                               "--cluster",
                                               "rs0",
                                               "--latest-snapshot",
                                               "--method",
                                               "AUTOMATED_RESTORE",
                                               "--target-group-id",
                                               test_group_id,
                                               "--target-cluster-name",
                                               "sh0",
                                               "--confirm-overwrite",
                                               "rs0"});
    EXPECT_EQ(overwrite.status, 2);
    EXPECT_NE(overwrite.err.find("--confirm-overwrite"), std::string::npos) << overwrite.err;
    EXPECT_EQ(counter(fake.counters(), "requests_total"), 0);
}

TEST_F(SubmitTest, AtlasErrorBodyIsPrintedWithStatusAndCode) {
    fake_atlas_server fake(dir_.path());
    const auto config = write_config(dir_.path(), fake);
    const auto r = run_atlas_restored(submit_args(config, "no-such-cluster"));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("HTTP 404"), std::string::npos) << r.err;
    EXPECT_EQ(counter(fake.counters(), "creates"), 0);
}

TEST_F(SubmitTest, EnvelopeAndPrettyAreSentAndParsedBack) {
    fake_atlas_server fake(dir_.path(), {"--job-seconds", "1"});
    const auto config = write_config(dir_.path(), fake);
    const auto r = run_atlas_restored(
        submit_args(config, "rs0", {"--envelope", "--pretty", "--wait", "--poll-interval", "0.3"}));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("\n  \"results\": ["), std::string::npos) << r.out;  // indented output
    const auto log = fake.request_log();
    bool saw_envelope = false;
    for (const auto& entry : log.at("requests").as_array()) {
        const auto target = std::string(entry.at("target").as_string());
        saw_envelope = saw_envelope || (target.find("envelope=true") != std::string::npos &&
                                        target.find("pretty=true") != std::string::npos);
    }
    EXPECT_TRUE(saw_envelope);
}

TEST_F(SubmitTest, WaitWithDownloadToFetchesAndVerifiesEveryFileOfTheBatch) {
    fake_atlas_server fake(dir_.path(), {"--job-seconds", "1", "--file-bytes", "256KiB"});
    const auto config = write_config(dir_.path(), fake);
    const auto target = dir_.path() / "restore";
    const auto r = run_atlas_restored(
        submit_args(config, "sh0", {"--wait", "--poll-interval", "0.3", "--download-to", target.string()}));
    ASSERT_EQ(r.status, 0) << r.err;
    int placed = 0;
    for (const auto& entry : std::filesystem::directory_iterator(target)) {
        if (entry.path().extension() == ".gz") {
            ++placed;
            EXPECT_EQ(std::filesystem::file_size(entry.path()), 256u * 1024u);
            // A real archive, whole: tar can list it.
            const auto listed =
                run_command({{"/usr/bin/tar", "-tzf", entry.path().string()}, {}, {}, dir_.path(), "tar"});
            EXPECT_EQ(listed.status, 0) << listed.err;
        }
        EXPECT_NE(entry.path().extension(), ".partial");
    }
    EXPECT_EQ(placed, 4);
    EXPECT_FALSE(std::filesystem::exists(target / ".atlas-restored-submit"));
    EXPECT_EQ(counter(fake.counters(), "downloads_completed"), 4);
}

TEST_F(SubmitTest, DownloadToWithoutWaitIsInvalid) {
    fake_atlas_server fake(dir_.path());
    const auto config = write_config(dir_.path(), fake);
    const auto r =
        run_atlas_restored(submit_args(config, "rs0", {"--download-to", (dir_.path() / "x").string()}));
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(counter(fake.counters(), "requests_total"), 0);
}

TEST_F(SubmitTest, DryRunPrintsTheRequestAndCreatesNothing) {
    fake_atlas_server fake(dir_.path());
    const auto config = write_config(dir_.path(), fake, {.auth = auth_mode::api_key});
    const auto r = run_atlas_restored(submit_args(config, "rs0", {"--dry-run"}));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("POST https://127.0.0.1:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"snapshotId\""), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(api_private_key), std::string::npos);
    EXPECT_EQ(counter(fake.counters(), "creates"), 0);
}

}  // namespace
}  // namespace atlas_restored::testing
