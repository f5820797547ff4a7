// What the daemon refuses at start (issue 3 "Bad input"): every configuration problem at once,
// a second daemon on the same state directory, a corrupt database (left untouched).

#include "daemon_support.hpp"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <csignal>

namespace atlas_restored::testing {
namespace {

using namespace std::chrono_literals;

TEST(DaemonRefusal, InvalidConfigurationExitsOneWithEveryProblem) {
    temp_dir dir{"daemon-bad-config"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    config_options options;
    options.policies_yaml = http_policy("a", "rs0", "    schedule: \"0 25 * * *\"\n") +
                            http_policy("a", "rs0", "    poll_intervall: 1s\n");
    const auto config = write_config(dir.path(), fake, options);
    const auto r = run_atlas_restored({"run", "--config", config.string()}, 30s);
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("policies[0].schedule"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("poll_intervall"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("not starting"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "state" / "atlas-restored.db"));
}

TEST(DaemonRefusal, AnUnreadableCredentialExitsOne) {
    temp_dir dir{"daemon-bad-secret"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    config_options options;
    options.policies_yaml = http_policy("a");
    const auto config = write_config(dir.path(), fake, options);
    std::filesystem::remove(dir.path() / "client-secret");
    const auto r = run_atlas_restored({"run", "--config", config.string()}, 30s);
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find((dir.path() / "client-secret").string()), std::string::npos) << r.err;
}

TEST(DaemonRefusal, ASecondDaemonOnTheSameStateDirectoryIsRefused) {
    temp_dir dir{"daemon-second"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    config_options options;
    options.policies_yaml = http_policy("a");
    const auto config = write_config(dir.path(), fake, options);
    daemon_process first(dir.path(), config);
    ASSERT_TRUE(first.wait_started()) << first.log();
    const auto second = run_atlas_restored({"run", "--config", config.string()}, 30s);
    EXPECT_EQ(second.status, 1);
    EXPECT_NE(second.err.find("already running"), std::string::npos) << second.err;
    EXPECT_NE(second.err.find((dir.path() / "state").string()), std::string::npos) << second.err;
    // The first one is unharmed: its control socket still answers.
    EXPECT_TRUE(first.running());
    const auto human = run_atlas_restored({"status", "--config", config.string()});
    EXPECT_NE(human.out.find("daemon: running"), std::string::npos) << human.out;
    first.signal(SIGTERM);
    EXPECT_EQ(first.wait(10s), 0);
}

TEST(DaemonRefusal, ACorruptDatabaseIsRefusedAndLeftAsItWas) {
    temp_dir dir{"daemon-corrupt"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    config_options options;
    options.policies_yaml = http_policy("a", "rs0", "    trigger: INC-1\n");
    const auto config = write_config(dir.path(), fake, options);
    const auto db = dir.path() / "state" / "atlas-restored.db";
    std::string garbage = "SQLite format 3";
    garbage.push_back('\0');
    garbage += std::string(4096, '\x5a');
    write_file(db, garbage);
    const auto r = run_atlas_restored({"run", "--config", config.string()}, 30s);
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find(db.string()), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("not starting"), std::string::npos) << r.err;
    EXPECT_EQ(read_file(db), garbage);
    EXPECT_EQ(counter(fake.counters(), "creates"), 0);  // the trigger did not run
    // status says the same without touching it either.
    const auto status = run_atlas_restored({"status", "--config", config.string(), "--json"});
    EXPECT_EQ(status.status, 1);
    EXPECT_EQ(read_file(db), garbage);
}

TEST(DaemonRefusal, StatusWithoutADatabaseIsEmptyNotAnError) {
    temp_dir dir{"daemon-no-db"};
    fake_atlas_server fake(dir.path(), {"--job-seconds", "1"});
    config_options options;
    options.policies_yaml = http_policy("a", "rs0", "    schedule: \"0 3 * * *\"\n");
    const auto config = write_config(dir.path(), fake, options);
    const auto r = run_atlas_restored({"status", "--config", config.string(), "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto doc = boost::json::parse(r.out);
    EXPECT_TRUE(doc.at("runs").as_array().empty());
    ASSERT_EQ(doc.at("policies").as_array().size(), 1u);
    EXPECT_TRUE(doc.at("policies").as_array()[0].at("last_outcome").is_null());
    EXPECT_TRUE(doc.at("policies").as_array()[0].at("next_fire_time").is_string());
    EXPECT_NE(r.err.find("no state database"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace atlas_restored::testing
