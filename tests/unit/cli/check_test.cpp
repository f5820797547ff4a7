// `check --against-state` (SPEC §4 "check previews"): what a reload would add, remove, change and
// trigger, compared with the configuration in force the daemon recorded in its state database.

#include "cli/check.hpp"

#include "cli/exit_codes.hpp"
#include "config/describe.hpp"
#include "config/loader.hpp"
#include "state/store.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace atlas_restored::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::temp_dir;
using testing::write_file;

std::string policy(const std::string& name, const std::string& extra = "") {
    return "  - name: " + name +
           "\n    group_id: 32b6e34b3d91647abb20e7b8\n    cluster: orders-prod\n"
           "    restore_point: { latest_snapshot: true }\n    delivery: { method: HTTP }\n" +
           extra;
}

class check_test : public ::testing::Test {
  protected:
    temp_dir dir{"check-test"};

    std::filesystem::path write_config(const std::string& policies) {
        write_file(dir / "secret", "s3cr3t\n");
        const auto file = dir / "atlas-restored.yaml";
        write_file(file,
                   "atlas:\n  auth:\n    service_account:\n      client_id: mdb_sa_id_0123\n"
                   "      client_secret_file: " +
                       (dir / "secret").string() + "\nstate_dir: " + (dir / "state").string() +
                       "\ndownload_dir: " + (dir / "downloads").string() + "\npolicies:\n" + policies);
        return file;
    }

    // What a daemon that started with `policies` leaves in its state directory.
    void record_in_force(const std::string& policies,
                         const std::string& consumed_policy = "",
                         const std::string& consumed_trigger = "") {
        const auto file = write_config(policies);
        auto c = config::load_configuration(file, std::chrono::system_clock::now());
        ASSERT_TRUE(c);
        auto store = state::store::open(c->state_dir);
        ASSERT_TRUE(store) << store.error().message;
        auto snapshot = config::snapshot_of(*c);
        ASSERT_TRUE(store->save_configuration_in_force(
            {config::config_digest(*c), snapshot.sections, snapshot.policies}));
        if (!consumed_policy.empty()) {
            state::run_record run;
            run.id = "r-20261128-120000-000001";
            run.policy = consumed_policy;
            run.trigger = consumed_trigger;
            run.state = state::run_state::succeeded;
            run.group_id = "32b6e34b3d91647abb20e7b8";
            run.cluster = "orders-prod";
            run.method = "HTTP";
            auto consumed = store->insert_run_consuming_trigger(run, consumed_trigger);
            ASSERT_TRUE(consumed && *consumed) << (consumed ? "already consumed" : consumed.error().message);
        }
    }

    int check(const std::filesystem::path& file,
              std::optional<std::string> against,
              std::string& out,
              std::string& err) {
        check_options o;
        o.config_file = file.string();
        o.against_state = std::move(against);
        std::ostringstream o_out;
        std::ostringstream o_err;
        const int status = run_check(o, o_out, o_err);
        out = o_out.str();
        err = o_err.str();
        return status;
    }
};

TEST_F(check_test, previews_added_removed_changed_policies_and_new_triggers_only) {
    record_in_force(
        policy("ran", "    trigger: INC-1\n") + policy("edited") + policy("dropped"), "ran", "INC-1");
    const auto next =
        write_config(policy("ran", "    trigger: INC-1\n") + policy("edited", "    poll_interval: 10s\n") +
                     policy("fresh", "    trigger: INC-2\n"));
    std::string out, err;
    ASSERT_EQ(check(next, "", out, err), exit_ok) << err;
    EXPECT_THAT(out, HasSubstr("reload preview: against the configuration in force in"));
    EXPECT_THAT(out, HasSubstr("  added policies: fresh\n"));
    EXPECT_THAT(out, HasSubstr("  removed policies: dropped\n"));
    EXPECT_THAT(out, HasSubstr("  changed policies: edited\n"));
    EXPECT_THAT(out, HasSubstr("  new trigger: fresh runs for trigger"));
    EXPECT_THAT(out, Not(HasSubstr("ran runs for trigger")));  // consumed: a reload does not run it again
}

TEST_F(check_test, the_same_configuration_previews_no_changes) {
    const std::string policies = policy("a", "    schedule: \"0 3 * * *\"\n");
    record_in_force(policies);
    std::string out, err;
    ASSERT_EQ(check(write_config(policies), "", out, err), exit_ok) << err;
    EXPECT_THAT(out, HasSubstr("  no changes\n"));
}

TEST_F(check_test, without_a_database_it_is_a_first_start_and_nothing_is_created) {
    const auto file = write_config(policy("a", "    trigger: T-1\n"));
    std::string out, err;
    ASSERT_EQ(check(file, "", out, err), exit_ok) << err;
    EXPECT_THAT(out, HasSubstr("a first start would make these changes"));
    EXPECT_THAT(out, HasSubstr("  added policies: a\n"));
    EXPECT_THAT(out, HasSubstr("  new trigger: a runs for trigger"));
    EXPECT_FALSE(std::filesystem::exists(dir / "state"));
}

TEST_F(check_test, an_explicit_directory_wins_and_no_option_means_no_preview) {
    record_in_force(policy("a"));
    const auto file = write_config(policy("a") + policy("b"));
    std::string out, err;
    ASSERT_EQ(check(file, (dir / "state").string(), out, err), exit_ok) << err;
    EXPECT_THAT(out, HasSubstr("  added policies: b\n"));
    ASSERT_EQ(check(file, std::nullopt, out, err), exit_ok) << err;
    EXPECT_THAT(out, Not(HasSubstr("reload preview")));
}

TEST_F(check_test, an_unreadable_state_database_is_an_error) {
    const auto file = write_config(policy("a"));
    write_file(dir / "state" / state::store::file_name,
               "this is not sqlite, but long enough to be read as a header");
    std::string out, err;
    EXPECT_EQ(check(file, "", out, err), exit_failure);
    EXPECT_THAT(err, HasSubstr("--against-state"));
}

}  // namespace
}  // namespace atlas_restored::cli
