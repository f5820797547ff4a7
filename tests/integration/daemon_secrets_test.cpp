// No secret anywhere a user or a log shipper can read it (SPEC §4, security): after a whole run at
// log level debug, with a retried API call and a cut download on the way, every log line, the
// `status` outputs, the report and every byte of the state database are searched for the test's
// secrets: the client secret or Digest private key, the access tokens the fake issued, each job's
// download `authValue` (which is also the secret part of its signed `url`).

#include "daemon_support.hpp"
#include "support/process.hpp"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sstream>

namespace atlas_restored::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string read_bytes(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Everything under `dir`, each file as "PATH:\n<bytes>\n": names count too (a file named after a
// signed URL would leak it).
std::string everything_under(const fs::path& dir) {
    std::string all;
    if (!fs::exists(dir)) {
        return all;
    }
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        all += entry.path().string() + ":\n";
        if (entry.is_regular_file()) {
            all += read_bytes(entry.path()) + "\n";
        }
    }
    return all;
}

// The download authValue of every job of `cluster`, read from the API as a user would (curl with
// Digest: a different client than the daemon, so no token of ours lands in the daemon's files).
std::vector<std::string> auth_values(const fake_atlas_server& fake,
                                     const fs::path& dir,
                                     const std::string& cluster) {
    const auto r = run_command({.argv = {"/usr/bin/curl",
                                         "-sS",
                                         "--fail",
                                         "--digest",
                                         "-u",
                                         std::string(api_public_key) + ":" + api_private_key,
                                         "--cacert",
                                         fake.ca_file().string(),
                                         "-H",
                                         "Accept: application/vnd.atlas.2023-01-01+json",
                                         fake.base_url() + "/api/atlas/v2/groups/" + test_group_id +
                                             "/clusters/" + cluster + "/restoreJobs"},
                                .output_dir = dir,
                                .name = "curl-jobs"});
    EXPECT_EQ(r.status, 0) << r.err;
    std::vector<std::string> values;
    if (r.status != 0) {
        return values;
    }
    const auto listing = boost::json::parse(r.out);  // named: the loop below borrows from it
    for (const auto& job : listing.at("results").as_array()) {
        if (const auto* v = job.at("delivery").as_object().if_contains("authValue")) {
            values.push_back(std::string(v->as_string()));
        }
    }
    return values;
}

class DaemonSecrets : public ::testing::TestWithParam<auth_mode> {};

TEST_P(DaemonSecrets, NoneInLogsStatusReportsOrTheDatabase) {
    temp_dir dir{"daemon-secrets"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "2", "--file-bytes", "300000"});
    // One failed listing (retried) and one cut download (resumed): the error paths log too.
    fake.add_fault(R"({"kind":"status","status":500,"count":1,"match":"GET */restoreJobs*"})");
    fake.add_fault(R"({"kind":"truncate","bytes":100000,"count":1})");
    config_options options;
    options.auth = GetParam();
    options.extra_yaml = "log_level: debug\n";
    options.policies_yaml = "  - name: oncall\n    group_id: " + std::string(test_group_id) +
                            "\n    cluster: sh0\n    trigger: INC-77\n"
                            "    restore_point: { latest_snapshot: true }\n"
                            "    delivery: { method: HTTP, max_downloads: 3 }\n"
                            "    poll_interval: 1s\n    deadline: 5m\n";
    const auto config = write_config(dir.path(), fake, options);
    daemon_process daemon(dir.path(), config);
    ASSERT_TRUE(daemon.wait_started()) << daemon.log();
    const auto runs = wait_for_final_runs(config, "oncall", 1);
    ASSERT_EQ(runs.size(), 1u) << daemon.log();
    ASSERT_EQ(str(runs[0].at("state")), "succeeded") << daemon.log();
    EXPECT_GE(counter(fake.counters(), "range_requests"), 1) << "the cut download was not resumed";

    const auto human = run_atlas_restored({"status", "--config", config.string()});
    const auto json = run_atlas_restored({"status", "--json", "--config", config.string()});
    ASSERT_EQ(human.status, 0) << human.err;
    ASSERT_EQ(json.status, 0) << json.err;
    const auto values = auth_values(fake, dir.path(), "sh0");
    ASSERT_EQ(values.size(), 4u);  // three shards and the config server, each with its own link
    daemon.signal(SIGTERM);
    ASSERT_EQ(daemon.wait(10s), 0) << daemon.log();

    const std::vector<std::pair<std::string, std::string>> places = {
        {"the daemon's log", daemon.log()},
        {"status", human.out + human.err},
        {"status --json", json.out + json.err},
        {"the state directory (database, reports)", everything_under(dir / "state")},
        {"the download directory", everything_under(dir / "downloads")},
    };
    std::vector<std::string> secrets = {sa_client_secret, api_private_key, "fake-at-"};  // tokens' prefix
    for (const auto& v : values) {
        ASSERT_GE(v.size(), 16u);
        secrets.push_back(v);
    }
    for (const auto& [place, text] : places) {
        ASSERT_FALSE(text.empty()) << place;
        for (const auto& secret : secrets) {
            EXPECT_EQ(text.find(secret), std::string::npos)
                << "a secret (" << secret.substr(0, 6) << "…) in " << place;
        }
    }
    // The searches looked at the right things: the run's files and report are there.
    EXPECT_NE(places[3].second.find("\"verified\":true"), std::string::npos)
        << places[3].second.substr(0, 2000);
    EXPECT_NE(places[0].second.find("oncall"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(BothAuthModes,
                         DaemonSecrets,
                         ::testing::Values(auth_mode::service_account, auth_mode::api_key),
                         [](const auto& info) {
                             return info.param == auth_mode::service_account ? "ServiceAccount"
                                                                             : "DigestApiKey";
                         });

}  // namespace
}  // namespace atlas_restored::testing
