#include "config/describe.hpp"

#include "fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace atlas_restored::config::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class describe_test : public config_test {};

const std::string scheduled_policy =
    "policies:\n"
    "  - name: drill\n"
    "    group_id: 32b6e34b3d91647abb20e7b8\n"
    "    cluster: orders-prod\n"
    "    schedule: \"0 3 * * SUN\"\n"
    "    timezone: Europe/Berlin\n"
    "    restore_point: { latest_snapshot: true }\n"
    "    delivery: { method: HTTP, expiration_hours: 4 }\n";

TEST_F(describe_test, shows_effective_keys_references_and_next_fire_times) {
    auto c = loaded(std::string(atlas_section) + scheduled_policy);
    std::string text = describe_policies(c, test_now());  // Saturday 2026-11-28 12:00Z
    EXPECT_THAT(text, HasSubstr("policy drill  (" + (dir_ / "main.yaml").string() + ":7)"));
    EXPECT_THAT(text, HasSubstr("poll_interval: 30s"));
    EXPECT_THAT(text, HasSubstr("deadline: 6h"));
    EXPECT_THAT(text, HasSubstr("keep_last: 2"));
    EXPECT_THAT(text, HasSubstr("expiration_hours: 4"));
    EXPECT_THAT(text, HasSubstr("client_secret: {file: /run/credentials/atlas-secret}"));
    // 03:00 in Berlin (CET, +01:00) on Sundays: 02:00 UTC.
    EXPECT_THAT(text, HasSubstr("- 2026-11-29T02:00:00Z  (2026-11-29 03:00 +01:00 CET Europe/Berlin)"));
    EXPECT_THAT(text, HasSubstr("- 2026-12-06T02:00:00Z"));
    EXPECT_THAT(text, HasSubstr("- 2026-12-13T02:00:00Z"));
    EXPECT_THAT(text, Not(HasSubstr("2026-12-20")));
}

TEST_F(describe_test, credentials_and_env_references_are_named_as_such) {
    auto c = loaded(
        "atlas: { auth: { service_account: { client_id: id, client_secret_file: atlas-secret } } }\n"
        "profiles: [ { name: p, auth: { api_key: { public_key: pk, private_key_env: KEY_VAR } } } ]\n"
        "policies:\n" +
        http_policy("a") + "    profile: p\n" + http_policy("b"));
    std::string text = describe_policies(c, test_now());
    EXPECT_THAT(text, HasSubstr("client_secret: {credential: atlas-secret}"));
    EXPECT_THAT(text, HasSubstr("private_key: {env: KEY_VAR}"));
}

TEST_F(describe_test, unscheduled_policy_without_trigger_runs_only_via_run_now) {
    auto c = loaded(std::string(atlas_section) + "policies:\n" + http_policy("manual-only"));
    EXPECT_THAT(describe_policies(c, test_now()), HasSubstr("only via run-now"));
}

TEST_F(describe_test, digest_ignores_layout_comments_and_written_defaults) {
    auto a = loaded(std::string(atlas_section) + scheduled_policy);
    auto b = loaded(
        "# the same configuration, written differently\n"
        "atlas: { auth: { service_account: { client_secret_file: /run/credentials/atlas-secret, client_id: "
        "mdb_sa_id_0123 } }, request_timeout: 30s }\n"
        "policies:\n"
        "  - delivery:\n"
        "      expiration_hours: 4   # hours\n"
        "      method: HTTP\n"
        "    restore_point:\n"
        "      latest_snapshot: true\n"
        "    name: drill\n"
        "    poll_interval: 30s\n"
        "    timezone: Europe/Berlin\n"
        "    schedule: \"0 3 * * SUN\"\n"
        "    cluster: orders-prod\n"
        "    group_id: 32b6e34b3d91647abb20e7b8\n");
    auto digest = config_digest(a);
    EXPECT_EQ(digest.size(), 64u);
    EXPECT_EQ(digest.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(digest, config_digest(b)) << canonical_text(a) << "\n---\n" << canonical_text(b);

    std::string changed_text = std::string(atlas_section) + scheduled_policy;
    changed_text.replace(changed_text.find("expiration_hours: 4"), 19, "expiration_hours: 5");
    auto changed = loaded(changed_text);
    EXPECT_NE(digest, config_digest(changed));

    auto other_log_level = loaded(std::string(atlas_section) + "log_level: warn\n" + scheduled_policy);
    EXPECT_NE(digest, config_digest(other_log_level));
}

TEST_F(describe_test, diff_reports_added_removed_changed_and_new_triggers) {
    auto old =
        loaded(std::string(atlas_section) + "policies:\n" + http_policy("kept") + http_policy("edited") +
               http_policy("dropped") + http_policy("ran") + "    trigger: INC-1\n");
    auto next = loaded(std::string(atlas_section) + "log_level: debug\npolicies:\n" + http_policy("kept") +
                       http_policy("edited") + "    poll_interval: 10s\n" + http_policy("ran") +
                       "    trigger: INC-1\n" + http_policy("fresh") + "    trigger: INC-2\n");
    auto consumed = [](const std::string& policy, const std::string& trigger) {
        return policy == "ran" && trigger == "INC-1";
    };
    auto d = diff_configurations(old, next, consumed);
    EXPECT_THAT(d.added, ElementsAre("fresh"));
    EXPECT_THAT(d.removed, ElementsAre("dropped"));
    EXPECT_THAT(d.changed, ElementsAre("edited"));
    EXPECT_THAT(d.new_triggers, ElementsAre(std::pair<std::string, std::string>("fresh", "INC-2")));
    EXPECT_THAT(d.settings_changed, ElementsAre("log_level"));
    std::string text = format_diff(d);
    EXPECT_THAT(text, HasSubstr("added policies: fresh"));
    EXPECT_THAT(text, HasSubstr("removed policies: dropped"));
    EXPECT_THAT(text, HasSubstr("changed policies: edited"));
    EXPECT_THAT(text, HasSubstr("new trigger: fresh runs for trigger INC-2"));

    // A reformatted but equal configuration changes nothing.
    auto same = diff_configurations(next, next, consumed);
    EXPECT_THAT(same.added, IsEmpty());
    EXPECT_THAT(same.changed, IsEmpty());
    EXPECT_THAT(same.settings_changed, IsEmpty());
    EXPECT_THAT(same.new_triggers, ElementsAre(std::pair<std::string, std::string>("fresh", "INC-2")));
}

TEST_F(describe_test, diff_against_nothing_adds_every_policy) {
    auto next = loaded(std::string(atlas_section) + "policies:\n" + http_policy("a") + "    trigger: T\n");
    auto d = diff_configurations(configuration{}, next, nullptr);
    EXPECT_THAT(d.added, ElementsAre("a"));
    EXPECT_THAT(d.settings_changed, IsEmpty());
    EXPECT_THAT(d.new_triggers, ElementsAre(std::pair<std::string, std::string>("a", "T")));
    EXPECT_EQ(format_diff(config_diff{}), "no changes\n");
}

TEST_F(describe_test, a_stored_snapshot_diffs_like_the_configuration_it_was_taken_from) {
    auto old =
        loaded(std::string(atlas_section) + "policies:\n" + http_policy("kept") + http_policy("edited"));
    auto next = loaded(std::string(atlas_section) + "log_level: debug\npolicies:\n" + http_policy("kept") +
                       http_policy("edited") + "    poll_interval: 10s\n" + http_policy("fresh"));
    const auto from_snapshot = diff_configurations(std::optional(snapshot_of(old)), next, nullptr);
    const auto from_configuration = diff_configurations(old, next, nullptr);
    EXPECT_EQ(format_diff(from_snapshot), format_diff(from_configuration));
    EXPECT_THAT(from_snapshot.changed, ElementsAre("edited"));
    EXPECT_THAT(from_snapshot.settings_changed, ElementsAre("log_level"));
    // Nothing in force (a first start): every policy is added, no setting "changes".
    const auto first_start = diff_configurations(std::optional<config_snapshot>{}, next, nullptr);
    EXPECT_THAT(first_start.added, ElementsAre("edited", "fresh", "kept"));
    EXPECT_THAT(first_start.settings_changed, IsEmpty());
}

}  // namespace
}  // namespace atlas_restored::config::testing
