#include "config/loader.hpp"

#include "fixture.hpp"
#include "schedule/time_zone.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace atlas_restored::config::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

TEST(format_problem_test, file_line_path_message) {
    EXPECT_EQ(format_problem({"/etc/a.yaml",
                              12,
                              5,
                              "policies[2].restore_point.snapshot_id",
                              "must be 24 lowercase hex digits"}),
              "/etc/a.yaml:12: policies[2].restore_point.snapshot_id: must be 24 lowercase hex digits");
    EXPECT_EQ(format_problem({"/etc/a.yaml", 3, 1, "", "invalid YAML: end of map not found"}),
              "/etc/a.yaml:3: invalid YAML: end of map not found");
    EXPECT_EQ(format_problem({"/etc/a.yaml", 0, 0, "", "cannot read the file: No such file or directory"}),
              "/etc/a.yaml: cannot read the file: No such file or directory");
}

TEST(edit_distance_test, counts_edits) {
    EXPECT_EQ(edit_distance("schedule", "schedule"), 0u);
    EXPECT_EQ(edit_distance("schedul", "schedule"), 1u);
    EXPECT_EQ(edit_distance("shcedule", "schedule"), 2u);
    EXPECT_EQ(edit_distance("", "abc"), 3u);
}

TEST_F(config_test, example_file_loads_cleanly) {
    auto r = load_configuration(std::filesystem::path(SOURCE_DIR) / "config/atlas-restored.example.yaml",
                                test_now());
    ASSERT_TRUE(r.has_value()) << all_text(r.error());
    const configuration& c = *r;
    ASSERT_THAT(c.policies, SizeIs(2));
    EXPECT_EQ(c.policies[0].name, "orders-weekly-drill");
    EXPECT_EQ(c.policies[0].profile, "payments-org");
    EXPECT_EQ(c.policies[0].timezone, "Europe/Berlin");
    EXPECT_EQ(c.policies[1].delivery.method, "AUTOMATED_RESTORE");
    ASSERT_THAT(c.profiles, SizeIs(1));
    EXPECT_EQ(c.profiles[0].atlas.requests_per_minute, 50);
    EXPECT_EQ(c.atlas.auth.service_account->client_secret.source, secret_source::credential);
}

TEST_F(config_test, defaults_are_filled_in) {
    auto c = loaded(std::string(atlas_section) + "policies:\n" + http_policy("drill"));
    EXPECT_EQ(c.atlas.base_url, "https://cloud.mongodb.com");
    EXPECT_EQ(c.atlas.api_version, "2023-01-01");
    EXPECT_EQ(c.atlas.request_timeout, std::chrono::seconds(30));
    EXPECT_EQ(c.atlas.requests_per_minute, 100);
    EXPECT_FALSE(c.atlas.ca_file);
    EXPECT_FALSE(c.atlas.proxy);
    EXPECT_EQ(c.retry.initial, std::chrono::seconds(1));
    EXPECT_EQ(c.retry.multiplier, 2.0);
    EXPECT_EQ(c.retry.max, std::chrono::minutes(2));
    EXPECT_EQ(c.retry.give_up_after, std::chrono::hours(1));
    EXPECT_EQ(c.state_dir, "/var/lib/atlas-restored");
    EXPECT_EQ(c.download_dir, "/var/lib/atlas-restored/downloads");
    EXPECT_EQ(c.metrics_listen, "127.0.0.1:9464");
    EXPECT_EQ(c.max_concurrent_runs, 4);
    EXPECT_EQ(c.log_level, "info");
    ASSERT_THAT(c.policies, SizeIs(1));
    const policy& p = c.policies[0];
    EXPECT_EQ(p.timezone, "UTC");
    ASSERT_TRUE(p.zone);
    EXPECT_EQ(p.schedule_jitter, duration{0});
    EXPECT_FALSE(p.schedule);
    EXPECT_FALSE(p.trigger);
    EXPECT_EQ(p.point.kind, restore_point_kind::latest_snapshot);
    EXPECT_EQ(p.download.verify, "sha1");
    EXPECT_EQ(p.download.keep_last, 2);
    EXPECT_EQ(p.download.max_file_bytes, std::uint64_t{1} << 40);
    EXPECT_EQ(p.download.on_mismatch, mismatch_action::keep);
    EXPECT_FALSE(p.after_download);
    EXPECT_FALSE(p.resubmit_on_expiry);
    EXPECT_EQ(p.poll_interval, std::chrono::seconds(30));
    EXPECT_EQ(p.deadline, std::chrono::hours(6));
    EXPECT_FALSE(p.missed_fire_grace);
    EXPECT_EQ(p.where.line, 7);
    EXPECT_EQ(p.where.file, (dir_ / "main.yaml").string());
}

TEST_F(config_test, download_dir_defaults_under_state_dir_and_metrics_can_be_disabled) {
    auto c = loaded(std::string(atlas_section) + "state_dir: /srv/ar\nmetrics_listen: \"off\"\n");
    EXPECT_EQ(c.download_dir, "/srv/ar/downloads");
    EXPECT_FALSE(c.metrics_listen);
    auto empty = loaded(std::string(atlas_section) + "metrics_listen: \"\"\n");
    EXPECT_FALSE(empty.metrics_listen);
}

TEST_F(config_test, every_key_is_read) {
    auto c = loaded(std::string(atlas_section) +
                    "retry: { initial: 500ms, multiplier: 1.5, max: 1m, give_up_after: 2h }\n"
                    "max_concurrent_runs: 8\n"
                    "log_level: debug\n"
                    "metrics_listen: \"[::1]:0\"\n"
                    "notify:\n"
                    "  - url_env: HOOK_URL\n"
                    "    on: [failed, reload_failed]\n"
                    "policies:\n"
                    "  - name: pit\n"
                    "    group_id: 32b6e34b3d91647abb20e7b8\n"
                    "    cluster: c1\n"
                    "    schedule: \"*/15 * * * *\"\n"
                    "    timezone: America/New_York\n"
                    "    schedule_jitter: 1m30s\n"
                    "    trigger: INC-1\n"
                    "    restore_point: { oplog: { ts: \"2026-11-28T03:00:00Z\", inc: 3 } }\n"
                    "    delivery:\n"
                    "      method: CLIENT_PIT_HTTP\n"
                    "      expiration_hours: 4\n"
                    "      max_downloads: 3\n"
                    "    download: { keep_last: 5, max_file_bytes: 10GiB, on_mismatch: delete }\n"
                    "    after_download: { command: [/bin/true, \"{file}\"], timeout: 2m }\n"
                    "    resubmit_on_expiry: true\n"
                    "    poll_interval: 5s\n"
                    "    deadline: 1d\n"
                    "    missed_fire_grace: 1h\n");
    EXPECT_EQ(c.retry.initial, std::chrono::milliseconds(500));
    EXPECT_EQ(c.retry.multiplier, 1.5);
    EXPECT_EQ(c.max_concurrent_runs, 8);
    EXPECT_EQ(c.log_level, "debug");
    EXPECT_EQ(c.metrics_listen, "[::1]:0");
    ASSERT_THAT(c.notify, SizeIs(1));
    EXPECT_EQ(c.notify[0].url.source, secret_source::env);
    EXPECT_EQ(c.notify[0].url.name, "HOOK_URL");
    EXPECT_EQ(c.notify[0].on, (std::vector<notify_event>{notify_event::failed, notify_event::reload_failed}));
    ASSERT_THAT(c.policies, SizeIs(1));
    const policy& p = c.policies[0];
    ASSERT_TRUE(p.schedule);
    EXPECT_EQ(p.schedule->text(), "*/15 * * * *");
    EXPECT_EQ(p.zone->name(), "America/New_York");
    EXPECT_EQ(p.schedule_jitter, std::chrono::seconds(90));
    EXPECT_EQ(p.trigger, "INC-1");
    EXPECT_EQ(p.point.kind, restore_point_kind::oplog);
    EXPECT_EQ(p.point.oplog_ts, "2026-11-28T03:00:00Z");
    EXPECT_EQ(p.point.oplog_inc, 3);
    EXPECT_EQ(p.delivery.expiration_hours, 4);
    EXPECT_EQ(p.delivery.max_downloads, 3);
    EXPECT_EQ(p.download.keep_last, 5);
    EXPECT_EQ(p.download.max_file_bytes, std::uint64_t{10} << 30);
    EXPECT_EQ(p.download.on_mismatch, mismatch_action::delete_file);
    ASSERT_TRUE(p.after_download);
    EXPECT_EQ(p.after_download->command, (std::vector<std::string>{"/bin/true", "{file}"}));
    EXPECT_EQ(p.after_download->timeout, std::chrono::minutes(2));
    EXPECT_TRUE(p.resubmit_on_expiry);
    EXPECT_EQ(p.poll_interval, std::chrono::seconds(5));
    EXPECT_EQ(p.deadline, std::chrono::hours(24));
    EXPECT_EQ(p.missed_fire_grace, std::chrono::hours(1));
}

TEST_F(config_test, syntax_error_names_the_line_where_parsing_stopped) {
    std::string text = std::string(atlas_section) +
                       "policies:\n"
                       "  - name: a\n"
                       "    on: [failed, succeeded\n"
                       "    cluster: x\n";
    auto problems = problems_of(text);
    ASSERT_THAT(problems, SizeIs(1));
    EXPECT_EQ(problems[0].file, (dir_ / "main.yaml").string());
    EXPECT_GE(problems[0].line, line_containing(text, "[failed"));
    EXPECT_LE(problems[0].line, line_containing(text, "cluster: x") + 1);
    EXPECT_THAT(problems[0].message, HasSubstr("invalid YAML"));
    EXPECT_THAT(format_problem(problems[0]),
                HasSubstr("main.yaml:" + std::to_string(problems[0].line) + ": "));
}

// yaml-cpp 0.7's LoadAll() never returns on these and allocates until memory runs out
// (jbeder/yaml-cpp#1040): found by fuzz_config_yaml. They must be one clear problem.
TEST_F(config_test, streams_that_hang_yaml_cpp_are_a_syntax_error) {
    for (const std::string text :
         {std::string(","), std::string("\n,\n"), std::string(atlas_section) + ",\n"}) {
        auto problems = problems_of(text);
        ASSERT_THAT(problems, SizeIs(1)) << text;
        EXPECT_THAT(problems[0].message, HasSubstr("invalid YAML")) << text;
    }
    auto problems = problems_of("\n  ,");
    ASSERT_THAT(problems, SizeIs(1));
    EXPECT_EQ(problems[0].line, 2);
    EXPECT_EQ(problems[0].message, "invalid YAML: unexpected ','");
    problems = problems_of("\x12,");  // not echoed as a raw control character
    ASSERT_THAT(problems, SizeIs(1));
    EXPECT_THAT(problems[0].message, Not(HasSubstr("\x12")));
    // The fuzzer's own finding: a real first document, then the stuck token.
    auto found =
        load_configuration(std::filesystem::path(SOURCE_DIR) /
                               "tests/fuzz/corpus/config_yaml/regression-yaml-cpp-1040-loadall-loop.yaml",
                           test_now());
    ASSERT_FALSE(found.has_value());
    ASSERT_THAT(found.error(), SizeIs(1));
    EXPECT_THAT(found.error()[0].message, HasSubstr("invalid YAML: unexpected"));
}

TEST_F(config_test, several_documents_are_refused_and_an_empty_file_is_no_document) {
    auto problems = problems_of(std::string(atlas_section) + "---\n" + atlas_section);
    ASSERT_THAT(problems, SizeIs(1));
    EXPECT_THAT(problems[0].message, HasSubstr("several YAML documents"));
    problems = problems_of("");
    ASSERT_THAT(problems, Not(IsEmpty()));  // no atlas: section, but no syntax error either
    EXPECT_THAT(all_text(problems), Not(HasSubstr("invalid YAML")));
}

TEST_F(config_test, unknown_key_suggests_the_close_one) {
    std::string text =
        std::string(atlas_section) + "policies:\n" + http_policy("a") + "    schedul: \"0 3 * * *\"\n";
    auto problems = problems_of(text);
    ASSERT_THAT(problems, SizeIs(1)) << all_text(problems);
    EXPECT_EQ(problems[0].line, line_containing(text, "schedul:"));
    EXPECT_EQ(problems[0].field_path, "policies[0].schedul");
    EXPECT_EQ(problems[0].message, "unknown key 'schedul'; did you mean 'schedule'?");
}

TEST_F(config_test, unknown_key_far_from_everything_lists_allowed_keys) {
    auto problems = problems_of(std::string(atlas_section) + "retry: { zzzzzz: 1s }\n");
    ASSERT_THAT(problems, SizeIs(1));
    EXPECT_EQ(problems[0].field_path, "retry.zzzzzz");
    EXPECT_THAT(problems[0].message, HasSubstr("unknown key 'zzzzzz'; allowed here: 'initial'"));
}

TEST_F(config_test, missing_file_is_one_problem) {
    auto r = load_configuration(dir_ / "nope.yaml", test_now());
    ASSERT_FALSE(r.has_value());
    ASSERT_THAT(r.error(), SizeIs(1));
    EXPECT_EQ(r.error()[0].line, 0);
    EXPECT_THAT(r.error()[0].message, HasSubstr("cannot read"));
}

TEST_F(config_test, wrong_types_are_reported) {
    std::string text = std::string(atlas_section) +
                       "max_concurrent_runs: many\n"
                       "policies:\n"
                       "  - name: a\n"
                       "    group_id: 32b6e34b3d91647abb20e7b8\n"
                       "    cluster: c\n"
                       "    restore_point: { latest_snapshot: yes-please }\n"
                       "    delivery: { method: HTTP, max_downloads: two }\n"
                       "    after_download: { command: /usr/bin/tar }\n"
                       "    download: [1, 2]\n";
    auto problems = problems_of(text);
    EXPECT_THAT(problems, SizeIs(5)) << all_text(problems);
    auto runs = at_path(problems, "max_concurrent_runs");
    ASSERT_THAT(runs, SizeIs(1));
    EXPECT_EQ(runs[0].message, "must be an integer");
    EXPECT_EQ(runs[0].line, line_containing(text, "many"));
    auto downloads = at_path(problems, "policies[0].delivery.max_downloads");
    ASSERT_THAT(downloads, SizeIs(1));
    EXPECT_EQ(downloads[0].message, "must be an integer");
    auto command = at_path(problems, "policies[0].after_download.command");
    ASSERT_THAT(command, SizeIs(1));
    EXPECT_EQ(command[0].message, "must be a list of strings");
    auto latest = at_path(problems, "policies[0].restore_point.latest_snapshot");
    ASSERT_THAT(latest, SizeIs(1));
    EXPECT_EQ(latest[0].message, "must be true or false");
    auto download = at_path(problems, "policies[0].download");
    ASSERT_THAT(download, SizeIs(1));
    EXPECT_THAT(download[0].message, HasSubstr("must be a mapping"));
}

TEST_F(config_test, three_mistakes_give_three_problems_with_their_lines) {
    std::string text = std::string(atlas_section) +
                       "log_level: loud\n"
                       "policies:\n"
                       "  - name: a\n"
                       "    group_id: 32b6e34b3d91647abb20e7b\n"
                       "    cluster: c\n"
                       "    restore_point: { snapshot_id: 5F1B0C0D0E0F101112131415 }\n"
                       "    delivery: { method: HTTP }\n";
    auto problems = problems_of(text);
    ASSERT_THAT(problems, SizeIs(3)) << all_text(problems);
    EXPECT_EQ(problems[0].field_path, "log_level");
    EXPECT_EQ(problems[0].line, line_containing(text, "loud"));
    EXPECT_EQ(problems[1].field_path, "policies[0].group_id");
    EXPECT_EQ(problems[1].line, line_containing(text, "group_id"));
    EXPECT_EQ(problems[1].message, "must be 24 lowercase hex digits");
    EXPECT_EQ(problems[2].field_path, "policies[0].restore_point.snapshot_id");
    EXPECT_EQ(problems[2].line, line_containing(text, "5F1B"));
    EXPECT_EQ(format_problem(problems[2]),
              (dir_ / "main.yaml").string() + ":" + std::to_string(line_containing(text, "5F1B")) +
                  ": policies[0].restore_point.snapshot_id: must be 24 lowercase hex digits");
}

TEST_F(config_test, cross_field_rules_still_run_beside_other_mistakes_but_never_repeat_them) {
    std::string text = policy_with("{ snapshot_id: nothex }",
                                   "      method: AUTOMATED_RESTORE\n"
                                   "      target_group_id: 5e2211c17a3e5a48f5497de3\n"
                                   "      target_cluster_name: orders-drill\n"
                                   "      confirm_overwrite: orders-prod\n") +
                       "    schedul: \"0 3 * * *\"\n";
    auto problems = problems_of(text);
    ASSERT_THAT(problems, SizeIs(3)) << all_text(problems);
    EXPECT_THAT(at_path(problems, "policies[0].schedul"), SizeIs(1));
    EXPECT_THAT(at_path(problems, "policies[0].restore_point.snapshot_id"), SizeIs(1));  // not twice
    EXPECT_THAT(at_path(problems, "policies[0].delivery.confirm_overwrite"), SizeIs(1));

    auto no_delivery = problems_of(policy_with("{ latest_snapshot: true }", "      - HTTP\n"));
    ASSERT_THAT(no_delivery, SizeIs(1)) << all_text(no_delivery);
    EXPECT_EQ(no_delivery[0].field_path, "policies[0].delivery");
}

TEST_F(config_test, duplicate_yaml_key_is_refused) {
    std::string text = std::string(atlas_section) + "log_level: info\nlog_level: debug\n";
    auto problems = problems_of(text);
    ASSERT_THAT(problems, SizeIs(1));
    EXPECT_EQ(problems[0].line, line_containing(text, "log_level: debug"));
    EXPECT_EQ(problems[0].message, "duplicate key 'log_level'");
}

TEST_F(config_test, inline_secrets_are_refused) {
    std::string text =
        "atlas:\n"
        "  auth:\n"
        "    service_account:\n"
        "      client_id: id\n"
        "      client_secret: hunter2-do-not-print\n"
        "notify:\n"
        "  - url: https://hooks.example/T0/secret\n";
    auto problems = problems_of(text);
    auto secret = at_path(problems, "atlas.auth.service_account.client_secret");
    ASSERT_THAT(secret, SizeIs(1)) << all_text(problems);
    EXPECT_THAT(secret[0].message,
                HasSubstr("secrets are read from files: use client_secret_file, or client_secret_env"));
    EXPECT_EQ(secret[0].line, line_containing(text, "client_secret:"));
    auto url = at_path(problems, "notify[0].url");
    ASSERT_THAT(url, SizeIs(1));
    EXPECT_THAT(url[0].message, HasSubstr("use url_file, or url_env"));
    for (const auto& p : problems) {
        EXPECT_THAT(format_problem(p), ::testing::Not(HasSubstr("hunter2")));
        EXPECT_THAT(format_problem(p), ::testing::Not(HasSubstr("T0/secret")));
    }
}

TEST_F(config_test, api_key_private_key_inline_is_refused) {
    auto problems =
        problems_of("atlas:\n  auth:\n    api_key:\n      public_key: abc\n      private_key: 1234-5678\n");
    auto key = at_path(problems, "atlas.auth.api_key.private_key");
    ASSERT_THAT(key, SizeIs(1)) << all_text(problems);
    EXPECT_THAT(key[0].message, HasSubstr("use private_key_file, or private_key_env"));
}

TEST_F(config_test, auth_needs_exactly_one_method_and_one_secret_source) {
    auto both = problems_of(
        "atlas:\n  auth:\n"
        "    service_account: { client_id: a, client_secret_file: /x }\n"
        "    api_key: { public_key: b, private_key_file: /y }\n");
    EXPECT_THAT(at_path(both, "atlas.auth"), SizeIs(1)) << all_text(both);
    auto two_sources = problems_of(
        "atlas:\n  auth:\n    service_account: { client_id: a, client_secret_file: /x, client_secret_env: X "
        "}\n");
    EXPECT_THAT(at_path(two_sources, "atlas.auth.service_account.client_secret_env"), SizeIs(1))
        << all_text(two_sources);
    auto none = problems_of("atlas:\n  auth:\n    service_account: { client_id: a }\n");
    EXPECT_THAT(at_path(none, "atlas.auth.service_account.client_secret_file"), SizeIs(1)) << all_text(none);
    auto no_auth = problems_of("atlas:\n  base_url: https://cloud.mongodb.com\n");
    EXPECT_THAT(at_path(no_auth, "atlas.auth"), SizeIs(1)) << all_text(no_auth);
    auto no_atlas = problems_of("log_level: info\n");
    EXPECT_THAT(at_path(no_atlas, "atlas"), SizeIs(1)) << all_text(no_atlas);
}

TEST_F(config_test, urls_must_be_https_and_carry_no_credentials) {
    auto http = problems_of(
        "atlas:\n  base_url: http://cloud.mongodb.com\n"
        "  proxy: http://user:pw@proxy:3128\n"
        "  auth: { service_account: { client_id: a, client_secret_file: /x } }\n");
    EXPECT_THAT(at_path(http, "atlas.base_url"), SizeIs(1)) << all_text(http);
    auto proxy = at_path(http, "atlas.proxy");
    ASSERT_THAT(proxy, SizeIs(1));
    EXPECT_THAT(proxy[0].message, HasSubstr("credentials"));
    EXPECT_THAT(proxy[0].message, ::testing::Not(HasSubstr("pw")));
}

TEST_F(config_test, proxy_credentials_come_from_a_file_and_only_http_proxies_are_accepted) {
    auto c = loaded(
        "atlas:\n  proxy: http://proxy.corp:3128\n  proxy_credentials_file: proxy-credentials\n"
        "  auth: { service_account: { client_id: a, client_secret_file: /x } }\n"
        "profiles:\n  - name: other\n    proxy: http://other-proxy:8080\n"
        "    proxy_credentials_env: OTHER_PROXY_CREDENTIALS\n");
    EXPECT_EQ(c.atlas.proxy, "http://proxy.corp:3128");
    ASSERT_TRUE(c.atlas.proxy_credentials);
    EXPECT_EQ(c.atlas.proxy_credentials->source, secret_source::credential);
    EXPECT_EQ(c.atlas.proxy_credentials->name, "proxy-credentials");
    ASSERT_THAT(c.profiles, SizeIs(1));
    EXPECT_EQ(c.profiles[0].atlas.proxy, "http://other-proxy:8080");
    ASSERT_TRUE(c.profiles[0].atlas.proxy_credentials);
    EXPECT_EQ(c.profiles[0].atlas.proxy_credentials->source, secret_source::env);

    auto https = problems_of(
        "atlas:\n  proxy: https://proxy.corp:3128\n"
        "  auth: { service_account: { client_id: a, client_secret_file: /x } }\n");
    auto proxy = at_path(https, "atlas.proxy");
    ASSERT_THAT(proxy, SizeIs(1)) << all_text(https);
    EXPECT_THAT(proxy[0].message, HasSubstr("http://"));
}

TEST_F(config_test, a_webhook_may_name_its_own_ca) {
    auto c = loaded(std::string(atlas_section) +
                    "notify:\n  - url_file: /etc/hook\n    tls: { ca_file: /etc/hook-ca.pem }\n"
                    "  - url_env: HOOK\n");
    ASSERT_THAT(c.notify, SizeIs(2));
    EXPECT_EQ(c.notify[0].ca_file, "/etc/hook-ca.pem");
    EXPECT_FALSE(c.notify[1].ca_file);
    auto bad = problems_of(std::string(atlas_section) +
                           "notify:\n  - url_file: /etc/hook\n    tls: { cafile: /x }\n");
    EXPECT_FALSE(bad.empty());
}

TEST_F(config_test, relative_secret_file_is_a_credential_and_env_names_are_checked) {
    auto c = loaded(
        "atlas:\n  auth: { api_key: { public_key: abc, private_key_file: atlas-key } }\n"
        "notify: [ { url_file: /etc/hook } ]\n");
    EXPECT_EQ(c.atlas.auth.api_key->private_key.source, secret_source::credential);
    EXPECT_EQ(c.atlas.auth.api_key->private_key.name, "atlas-key");
    EXPECT_EQ(c.notify[0].url.source, secret_source::file);
    auto bad = problems_of("atlas:\n  auth: { api_key: { public_key: abc, private_key_env: \"1-BAD\" } }\n");
    EXPECT_THAT(at_path(bad, "atlas.auth.api_key.private_key_env"), SizeIs(1)) << all_text(bad);
}

// ---- policies ----

TEST_F(config_test, two_restore_points_are_refused) {
    std::string text = std::string(atlas_section) +
                       "policies:\n"
                       "  - name: a\n"
                       "    group_id: 32b6e34b3d91647abb20e7b8\n"
                       "    cluster: c\n"
                       "    restore_point:\n"
                       "      snapshot_id: 5f1b0c0d0e0f101112131415\n"
                       "      point_in_time_utc_millis: 1732770000000\n"
                       "    delivery: { method: HTTP }\n";
    auto problems = problems_of(text);
    ASSERT_THAT(problems, SizeIs(1)) << all_text(problems);
    EXPECT_EQ(problems[0].field_path, "policies[0].restore_point");
    EXPECT_EQ(problems[0].line, line_containing(text, "point_in_time_utc_millis"));
    EXPECT_THAT(problems[0].message, HasSubstr("exactly one of"));
    EXPECT_THAT(problems[0].message, HasSubstr("'snapshot_id' and 'point_in_time_utc_millis'"));
}

TEST_F(config_test, restore_point_is_required_and_latest_snapshot_false_selects_nothing) {
    auto none =
        problems_of(std::string(atlas_section) +
                    "policies:\n  - { name: a, group_id: 32b6e34b3d91647abb20e7b8, cluster: c, delivery: { "
                    "method: HTTP } }\n");
    EXPECT_THAT(at_path(none, "policies[0].restore_point"), SizeIs(1)) << all_text(none);
    auto empty = problems_of(std::string(atlas_section) +
                             "policies:\n  - { name: a, group_id: 32b6e34b3d91647abb20e7b8, cluster: c, "
                             "restore_point: {}, delivery: { method: HTTP } }\n");
    EXPECT_THAT(at_path(empty, "policies[0].restore_point"), SizeIs(1)) << all_text(empty);
    auto no = problems_of(std::string(atlas_section) +
                          "policies:\n  - { name: a, group_id: 32b6e34b3d91647abb20e7b8, cluster: c, "
                          "restore_point: { latest_snapshot: false }, delivery: { method: HTTP } }\n");
    EXPECT_THAT(at_path(no, "policies[0].restore_point.latest_snapshot"), SizeIs(1)) << all_text(no);
}

TEST_F(config_test, checkpoint_id_only_with_automated_restore) {
    std::string text = policy_with("{ checkpoint_id: 5f1b0c0d0e0f101112131415 }", "      method: HTTP\n");
    auto problems = problems_of(text);
    ASSERT_THAT(problems, SizeIs(1)) << all_text(problems);
    EXPECT_EQ(problems[0].field_path, "policies[0].restore_point.checkpoint_id");
    EXPECT_EQ(problems[0].line, line_containing(text, "checkpoint_id"));
    EXPECT_THAT(problems[0].message, HasSubstr("AUTOMATED_RESTORE"));

    auto ok = loaded(policy_with("{ checkpoint_id: 5f1b0c0d0e0f101112131415 }",
                                 "      method: AUTOMATED_RESTORE\n"
                                 "      target_group_id: 5e2211c17a3e5a48f5497de3\n"
                                 "      target_cluster_name: drill\n"
                                 "      confirm_overwrite: drill\n"));
    EXPECT_EQ(ok.policies[0].point.kind, restore_point_kind::checkpoint_id);
}

TEST_F(config_test, automated_restore_needs_a_target) {
    std::string text = policy_with("{ latest_snapshot: true }", "      method: AUTOMATED_RESTORE\n");
    auto problems = problems_of(text);
    EXPECT_THAT(at_path(problems, "policies[0].delivery.target_group_id"), SizeIs(1)) << all_text(problems);
    auto cluster = at_path(problems, "policies[0].delivery.target_cluster_name");
    ASSERT_THAT(cluster, SizeIs(1));
    EXPECT_THAT(cluster[0].message, HasSubstr("target_cluster_name or target_cluster_id"));
    EXPECT_THAT(at_path(problems, "policies[0].delivery.confirm_overwrite"), SizeIs(1));
    EXPECT_EQ(problems[0].line, line_containing(text, "delivery:"));  // no key written: the delivery line
}

TEST_F(config_test, automated_restore_needs_confirm_overwrite_equal_to_the_target_name) {
    std::string text = policy_with("{ latest_snapshot: true }",
                                   "      method: AUTOMATED_RESTORE\n"
                                   "      target_group_id: 5e2211c17a3e5a48f5497de3\n"
                                   "      target_cluster_name: orders-drill\n"
                                   "      confirm_overwrite: orders-prod\n");
    auto problems = problems_of(text);
    ASSERT_THAT(problems, SizeIs(1)) << all_text(problems);
    EXPECT_EQ(problems[0].field_path, "policies[0].delivery.confirm_overwrite");
    EXPECT_EQ(problems[0].line, line_containing(text, "confirm_overwrite"));
    EXPECT_THAT(problems[0].message, HasSubstr("must equal delivery.target_cluster_name ('orders-drill')"));

    auto missing = problems_of(policy_with("{ latest_snapshot: true }",
                                           "      method: AUTOMATED_RESTORE\n"
                                           "      target_group_id: 5e2211c17a3e5a48f5497de3\n"
                                           "      target_cluster_name: orders-drill\n"));
    ASSERT_THAT(missing, SizeIs(1)) << all_text(missing);
    EXPECT_EQ(missing[0].field_path, "policies[0].delivery.confirm_overwrite");
    EXPECT_THAT(missing[0].message, HasSubstr("required with AUTOMATED_RESTORE"));

    // With only a target cluster id the name is compared at run time; confirm_overwrite is still required.
    loaded(policy_with("{ latest_snapshot: true }",
                       "      method: AUTOMATED_RESTORE\n"
                       "      target_group_id: 5e2211c17a3e5a48f5497de3\n"
                       "      target_cluster_id: 5e2211c17a3e5a48f5497de4\n"
                       "      confirm_overwrite: orders-drill\n"));

    auto http = problems_of(policy_with("{ latest_snapshot: true }",
                                        "      method: HTTP\n"
                                        "      confirm_overwrite: orders-drill\n"));
    EXPECT_THAT(at_path(http, "policies[0].delivery.confirm_overwrite"), SizeIs(1)) << all_text(http);
}

TEST_F(config_test, seed_rules_apply_to_policies) {
    // The seed validation's findings come back under YAML names.
    auto query = problems_of(policy_with("{ latest_snapshot: true }", "      method: QUERY\n"));
    auto method = at_path(query, "policies[0].delivery.method");
    ASSERT_THAT(method, SizeIs(1)) << all_text(query);
    EXPECT_THAT(method[0].message, HasSubstr("queryable"));

    auto target_with_http = problems_of(policy_with("{ latest_snapshot: true }",
                                                    "      method: HTTP\n"
                                                    "      target_cluster_name: other\n"));
    EXPECT_THAT(at_path(target_with_http, "policies[0].delivery.target_cluster_name"), SizeIs(1))
        << all_text(target_with_http);

    auto oplog_http = problems_of(
        policy_with("{ oplog: { ts: \"2026-11-28T03:00:00Z\", inc: 1 } }", "      method: HTTP\n"));
    EXPECT_THAT(at_path(oplog_http, "policies[0].restore_point.oplog.ts"), SizeIs(1)) << all_text(oplog_http);

    auto bad_ts = problems_of(policy_with("{ oplog: { ts: \"2026-02-30T03:00:00Z\", inc: 0 } }",
                                          "      method: CLIENT_PIT_HTTP\n"));
    EXPECT_THAT(at_path(bad_ts, "policies[0].restore_point.oplog.ts"), SizeIs(1)) << all_text(bad_ts);
    EXPECT_THAT(at_path(bad_ts, "policies[0].restore_point.oplog.inc"), SizeIs(1)) << all_text(bad_ts);
}

TEST_F(config_test, point_in_time_window_is_left_to_run_time_but_minimum_applies) {
    // Two years before test_now(): outside the 24-hour window, still a valid configuration.
    auto ok = loaded(policy_with("{ point_in_time_utc_millis: 1732770000000 }",
                                 "      method: AUTOMATED_RESTORE\n"
                                 "      target_group_id: 5e2211c17a3e5a48f5497de3\n"
                                 "      target_cluster_name: drill\n"
                                 "      confirm_overwrite: drill\n"));
    EXPECT_EQ(ok.policies[0].point.point_in_time_utc_millis, 1732770000000);
    auto low =
        problems_of(policy_with("{ point_in_time_utc_millis: 1000 }", "      method: CLIENT_PIT_HTTP\n"));
    auto pit = at_path(low, "policies[0].restore_point.point_in_time_utc_millis");
    ASSERT_THAT(pit, SizeIs(1)) << all_text(low);
    EXPECT_THAT(pit[0].message, HasSubstr("1199145600000"));
}

TEST_F(config_test, bad_cron_is_reported_with_the_parser_text) {
    std::string text =
        std::string(atlas_section) + "policies:\n" + http_policy("a") + "    schedule: \"0 25 * * *\"\n";
    auto problems = problems_of(text);
    ASSERT_THAT(problems, SizeIs(1)) << all_text(problems);
    EXPECT_EQ(problems[0].field_path, "policies[0].schedule");
    EXPECT_EQ(problems[0].line, line_containing(text, "schedule:"));
    auto expected = schedule::cron_expression::parse("0 25 * * *");
    ASSERT_FALSE(expected.has_value());
    EXPECT_THAT(problems[0].message, HasSubstr(expected.error().message));
}

TEST_F(config_test, schedule_that_never_fires_is_refused) {
    std::string text =
        std::string(atlas_section) + "policies:\n" + http_policy("a") + "    schedule: \"0 3 30 2 *\"\n";
    auto problems = problems_of(text);
    ASSERT_THAT(problems, SizeIs(1)) << all_text(problems);
    EXPECT_EQ(problems[0].field_path, "policies[0].schedule");
    EXPECT_THAT(problems[0].message, HasSubstr("never fires"));
}

TEST_F(config_test, bad_timezone_is_reported) {
    std::string text =
        std::string(atlas_section) + "policies:\n" + http_policy("a") + "    timezone: Mars/Olympus\n";
    auto problems = problems_of(text);
    ASSERT_THAT(problems, SizeIs(1)) << all_text(problems);
    EXPECT_EQ(problems[0].field_path, "policies[0].timezone");
    EXPECT_EQ(problems[0].line, line_containing(text, "Mars"));
    EXPECT_THAT(problems[0].message, HasSubstr("Mars/Olympus"));
}

TEST_F(config_test, unknown_profile_is_reported_at_the_policy) {
    std::string text = std::string(atlas_section) +
                       "profiles:\n  - { name: payments-org }\n"
                       "policies:\n" +
                       http_policy("a") + "    profile: payment-org\n";
    auto problems = problems_of(text);
    ASSERT_THAT(problems, SizeIs(1)) << all_text(problems);
    EXPECT_EQ(problems[0].field_path, "policies[0].profile");
    EXPECT_EQ(problems[0].line, line_containing(text, "profile: payment-org"));
    EXPECT_EQ(problems[0].message,
              "unknown profile 'payment-org' in policy 'a'; did you mean 'payments-org'?");
}

TEST_F(config_test, bad_durations_are_reported) {
    std::string text = std::string(atlas_section) +
                       "atlas_typo: 1\n"
                       "retry: { initial: 1.5s, max: 2 }\n"
                       "policies:\n" +
                       http_policy("a") +
                       "    poll_interval: 100ms\n"
                       "    deadline: soon\n";
    auto problems = problems_of(text);
    EXPECT_THAT(problems, SizeIs(5)) << all_text(problems);
    EXPECT_THAT(at_path(problems, "retry.initial"), SizeIs(1));
    EXPECT_THAT(at_path(problems, "retry.max"), SizeIs(1));
    auto poll = at_path(problems, "policies[0].poll_interval");
    ASSERT_THAT(poll, SizeIs(1));
    EXPECT_THAT(poll[0].message, HasSubstr("must be at least 1s"));
    auto deadline = at_path(problems, "policies[0].deadline");
    ASSERT_THAT(deadline, SizeIs(1));
    EXPECT_EQ(deadline[0].line, line_containing(text, "soon"));
    EXPECT_THAT(at_path(problems, "atlas_typo"), SizeIs(1));
}

TEST_F(config_test, policy_names_follow_the_pattern_and_triggers_are_not_reserved_words) {
    auto problems = problems_of(std::string(atlas_section) + "policies:\n" + http_policy("Orders_Drill") +
                                "    trigger: manual\n");
    EXPECT_THAT(at_path(problems, "policies[0].name"), SizeIs(1)) << all_text(problems);
    EXPECT_THAT(at_path(problems, "policies[0].trigger"), SizeIs(1)) << all_text(problems);
}

TEST_F(config_test, keep_last_and_max_downloads_at_least_one) {
    auto problems =
        problems_of(policy_with("{ latest_snapshot: true }", "      method: HTTP\n      max_downloads: 0\n") +
                    "    download: { keep_last: 0, verify: md5 }\n");
    EXPECT_THAT(at_path(problems, "policies[0].delivery.max_downloads"), SizeIs(1)) << all_text(problems);
    EXPECT_THAT(at_path(problems, "policies[0].download.keep_last"), SizeIs(1));
    EXPECT_THAT(at_path(problems, "policies[0].download.verify"), SizeIs(1));
}

TEST_F(config_test, duplicate_policy_name_in_the_main_file) {
    std::string text = std::string(atlas_section) + "policies:\n" + http_policy("a") + http_policy("a");
    auto problems = problems_of(text);
    ASSERT_THAT(problems, SizeIs(1)) << all_text(problems);
    EXPECT_EQ(problems[0].field_path, "policies[1].name");
    EXPECT_THAT(problems[0].message, HasSubstr("duplicate policy name 'a'"));
}

// ---- include and profiles ----

TEST_F(config_test, duplicate_policy_name_across_a_drop_in) {
    std::string drop_in = "policies:\n" + http_policy("b") + http_policy("a");
    write("conf.d/10-extra.yaml", drop_in);
    auto problems =
        problems_of(std::string(atlas_section) + "include: conf.d/*.yaml\npolicies:\n" + http_policy("a"));
    ASSERT_THAT(problems, SizeIs(1)) << all_text(problems);
    EXPECT_EQ(problems[0].file, (dir_ / "conf.d/10-extra.yaml").string());
    EXPECT_EQ(problems[0].line, line_containing(drop_in, "name: a"));
    EXPECT_EQ(problems[0].field_path, "policies[1].name");
    EXPECT_THAT(problems[0].message, HasSubstr("first defined at " + (dir_ / "main.yaml").string() + ":"));
}

TEST_F(config_test, include_relative_absolute_list_and_no_match) {
    write("conf.d/20-b.yaml", "policies:\n" + http_policy("b"));
    write("conf.d/10-a.yaml", "policies:\n" + http_policy("a"));
    write("conf.d/notes.txt", "not yaml: [");
    write("other/c.yaml", "policies:\n" + http_policy("c"));
    auto c =
        loaded(std::string(atlas_section) + "include:\n  - conf.d/*.yaml\n  - " + (dir_ / "other").string() +
               "/*.yaml\n  - nothing-here/*.yaml\npolicies:\n" + http_policy("main"));
    ASSERT_THAT(c.policies, SizeIs(4));
    EXPECT_EQ(c.policies[0].name, "main");
    EXPECT_EQ(c.policies[1].name, "a");  // sorted by path
    EXPECT_EQ(c.policies[2].name, "b");
    EXPECT_EQ(c.policies[3].name, "c");
    EXPECT_EQ(c.policies[1].where.file, (dir_ / "conf.d/10-a.yaml").string());
    EXPECT_EQ(c.policies[1].where.line, 2);
    ASSERT_THAT(c.files, SizeIs(4));

    auto none = loaded(std::string(atlas_section) + "include: /nonexistent-dir-for-test/*.yaml\n");
    EXPECT_TRUE(none.policies.empty());
}

TEST_F(config_test, drop_in_problems_are_reported_with_every_other_problem) {
    std::string drop_in = "log_level: debug\npolicies:\n" + http_policy("b") + "    deadlin: 1h\n";
    write("conf.d/b.yaml", drop_in);
    write("conf.d/broken.yaml", "policies:\n  - name: [\n");
    auto problems = problems_of(std::string(atlas_section) + "include: conf.d/*.yaml\nlog_level: nope\n");
    ASSERT_THAT(problems, SizeIs(4)) << all_text(problems);
    EXPECT_EQ(problems[0].field_path, "log_level");  // main file first
    EXPECT_EQ(problems[0].file, (dir_ / "main.yaml").string());
    EXPECT_EQ(problems[1].file, (dir_ / "conf.d/b.yaml").string());
    EXPECT_THAT(problems[1].message, HasSubstr("only be set in the main file"));
    EXPECT_EQ(problems[2].message, "unknown key 'deadlin'; did you mean 'deadline'?");
    EXPECT_EQ(problems[2].line, line_containing(drop_in, "deadlin"));
    EXPECT_EQ(problems[3].file, (dir_ / "conf.d/broken.yaml").string());
    EXPECT_THAT(problems[3].message, HasSubstr("invalid YAML"));
}

TEST_F(config_test, profiles_inherit_unset_keys_from_atlas) {
    auto c = loaded(
        "atlas:\n"
        "  base_url: https://atlas.example.com/\n"
        "  api_version: \"2025-02-19\"\n"
        "  request_timeout: 45s\n"
        "  tls: { ca_file: ca.pem }\n"
        "  auth: { service_account: { client_id: main-id, client_secret_file: /x } }\n"
        "profiles:\n"
        "  - name: other-org\n"
        "    auth: { api_key: { public_key: pk, private_key_env: OTHER_KEY } }\n"
        "    requests_per_minute: 10\n"
        "  - name: same-creds\n"
        "    base_url: https://other.example.com\n"
        "policies:\n" +
        http_policy("a") + "    profile: other-org\n");
    EXPECT_EQ(c.atlas.base_url, "https://atlas.example.com");
    EXPECT_EQ(c.atlas.ca_file, (dir_ / "ca.pem").string());  // relative to the file
    ASSERT_THAT(c.profiles, SizeIs(2));
    const atlas_settings& other = c.profiles[0].atlas;
    EXPECT_EQ(other.base_url, "https://atlas.example.com");
    EXPECT_EQ(other.api_version, "2025-02-19");
    EXPECT_EQ(other.request_timeout, std::chrono::seconds(45));
    EXPECT_EQ(other.ca_file, (dir_ / "ca.pem").string());
    EXPECT_EQ(other.requests_per_minute, 10);
    ASSERT_TRUE(other.auth.api_key);
    EXPECT_FALSE(other.auth.service_account);
    EXPECT_EQ(other.auth.api_key->private_key.name, "OTHER_KEY");
    const atlas_settings& same = c.profiles[1].atlas;
    EXPECT_EQ(same.base_url, "https://other.example.com");
    ASSERT_TRUE(same.auth.service_account);
    EXPECT_EQ(same.auth.service_account->client_id, "main-id");
    EXPECT_EQ(same.requests_per_minute, 100);
    EXPECT_EQ(settings_for(c, c.policies[0]), &c.profiles[0].atlas);
}

TEST_F(config_test, profiles_in_a_drop_in_and_duplicate_profile_names) {
    write("conf.d/p.yaml", "profiles:\n  - { name: extra, requests_per_minute: 5 }\n");
    auto c = loaded(std::string(atlas_section) + "include: conf.d/*.yaml\npolicies:\n" + http_policy("a") +
                    "    profile: extra\n");
    ASSERT_THAT(c.profiles, SizeIs(1));
    EXPECT_EQ(c.profiles[0].atlas.requests_per_minute, 5);

    write("conf.d/q.yaml", "profiles:\n  - { name: extra }\n");
    auto problems = problems_of(std::string(atlas_section) + "include: conf.d/*.yaml\n");
    ASSERT_THAT(problems, SizeIs(1)) << all_text(problems);
    EXPECT_THAT(problems[0].message, HasSubstr("duplicate profile name 'extra'"));
}

TEST_F(config_test, empty_main_file_needs_atlas_and_empty_drop_in_is_fine) {
    auto problems = problems_of("");
    ASSERT_THAT(problems, SizeIs(1));
    EXPECT_EQ(problems[0].field_path, "atlas");
    write("conf.d/empty.yaml", "# nothing yet\n");
    loaded(std::string(atlas_section) + "include: conf.d/*.yaml\npolicies:\n");
}

TEST_F(config_test, validate_policies_runs_on_a_hand_made_configuration) {
    configuration c;
    policy p;
    p.name = "hand";
    p.group_id = "not-hex";
    p.cluster = "c";
    p.point.kind = restore_point_kind::snapshot_id;
    p.point.snapshot_id = "5f1b0c0d0e0f101112131415";
    p.delivery.method = "HTTP";
    p.where = {"hand.yaml", 4, 3};
    c.policies.push_back(p);
    auto problems = validate_policies(c, test_now());
    ASSERT_THAT(problems, SizeIs(1)) << all_text(problems);
    EXPECT_EQ(problems[0].field_path, "policies[0].group_id");
    EXPECT_EQ(problems[0].line, 4);
    EXPECT_EQ(problems[0].file, "hand.yaml");
}

TEST_F(config_test, to_create_request_carries_the_policy) {
    auto c = loaded(policy_with("{ snapshot_id: 5f1b0c0d0e0f101112131415 }",
                                "      method: HTTP\n      expiration_hours: 3\n      max_downloads: 2\n"));
    auto request = to_create_request(c.policies[0]);
    EXPECT_EQ(request.snapshot_id, "5f1b0c0d0e0f101112131415");
    EXPECT_EQ(request.delivery.method_name, "HTTP");
    EXPECT_EQ(request.delivery.expiration_hours, 3);
    EXPECT_EQ(request.delivery.max_downloads, 2);
    EXPECT_FALSE(request.checkpoint_id);
}

}  // namespace
}  // namespace atlas_restored::config::testing
