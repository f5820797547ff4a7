#include "config/secrets.hpp"

#include "fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace atlas_restored::config::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

secret_ref file_ref(const std::string& name, secret_source source = secret_source::file) {
    secret_ref ref;
    ref.source = source;
    ref.name = name;
    ref.field_path = "atlas.auth.service_account.client_secret_file";
    ref.where = {"main.yaml", 5, 7};
    return ref;
}

class secrets_test : public config_test {};

TEST_F(secrets_test, reads_a_file_without_one_trailing_newline) {
    write("s1", "top-secret\n");
    write("s2", "top-secret\r\n");
    write("s3", "top-secret\n\n");
    write("s4", "top-secret");
    environment env;
    EXPECT_EQ(read_secret(file_ref((dir_ / "s1").string()), env).value(), "top-secret");
    EXPECT_EQ(read_secret(file_ref((dir_ / "s2").string()), env).value(), "top-secret");
    EXPECT_EQ(read_secret(file_ref((dir_ / "s3").string()), env).value(), "top-secret\n");
    EXPECT_EQ(read_secret(file_ref((dir_ / "s4").string()), env).value(), "top-secret");
}

TEST_F(secrets_test, credential_is_looked_up_under_credentials_directory) {
    write("creds/atlas-secret", "from-systemd\n");
    environment env;
    env.variables["CREDENTIALS_DIRECTORY"] = (dir_ / "creds").string();
    auto ref = file_ref("atlas-secret", secret_source::credential);
    EXPECT_EQ(read_secret(ref, env).value(), "from-systemd");
    EXPECT_EQ(secret_path(ref, env).value(), dir_ / "creds" / "atlas-secret");

    auto unset = read_secret(ref, environment{});
    ASSERT_FALSE(unset);
    EXPECT_THAT(unset.error().message, HasSubstr("CREDENTIALS_DIRECTORY"));
}

TEST_F(secrets_test, env_reference) {
    environment env;
    env.variables["ATLAS_KEY"] = "k3y";
    env.variables["EMPTY"] = "";
    secret_ref ref = file_ref("ATLAS_KEY", secret_source::env);
    EXPECT_EQ(read_secret(ref, env).value(), "k3y");
    ref.name = "MISSING";
    auto missing = read_secret(ref, env);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, errc::not_found);
    ref.name = "EMPTY";
    EXPECT_FALSE(read_secret(ref, env));
}

TEST_F(secrets_test, errors_name_the_path_never_the_content) {
    write("empty", "\n");
    environment env;
    auto empty = read_secret(file_ref((dir_ / "empty").string()), env);
    ASSERT_FALSE(empty);
    EXPECT_THAT(empty.error().message, HasSubstr((dir_ / "empty").string()));
    auto missing = read_secret(file_ref((dir_ / "missing").string()), env);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, errc::not_found);
    EXPECT_THAT(missing.error().message, HasSubstr((dir_ / "missing").string()));
    auto directory = read_secret(file_ref(dir_.path().string()), env);
    EXPECT_FALSE(directory);
}

TEST_F(secrets_test, check_credentials_reports_each_unreadable_one_at_its_line) {
    write("creds/good", "a-good-secret\n");
    write("hook", "https://hooks.example/SECRET-TOKEN\n");
    std::string text =
        "atlas:\n"
        "  auth:\n"
        "    service_account:\n"
        "      client_id: id\n"
        "      client_secret_file: good\n"
        "profiles:\n"
        "  - name: other\n"
        "    auth: { api_key: { public_key: pk, private_key_file: missing-credential } }\n"
        "  - name: inherits\n"
        "    requests_per_minute: 5\n"
        "notify:\n"
        "  - url_file: " +
        (dir_ / "hook").string() +
        "\n"
        "  - url_env: HOOK_ENV\n"
        "  - url_file: " +
        (dir_ / "no-such-hook").string() + "\n";
    auto c = loaded(text);
    environment env;
    env.variables["CREDENTIALS_DIRECTORY"] = (dir_ / "creds").string();
    auto problems = check_credentials(c, env);
    ASSERT_THAT(problems, SizeIs(3)) << all_text(problems);
    EXPECT_EQ(problems[0].field_path, "profiles[0].auth.api_key.private_key_file");
    EXPECT_EQ(problems[0].line, line_containing(text, "missing-credential"));
    EXPECT_THAT(problems[0].message, HasSubstr((dir_ / "creds" / "missing-credential").string()));
    EXPECT_EQ(problems[1].field_path, "notify[1].url_env");
    EXPECT_THAT(problems[1].message, HasSubstr("HOOK_ENV"));
    EXPECT_EQ(problems[2].field_path, "notify[2].url_file");
    EXPECT_THAT(problems[2].message, HasSubstr((dir_ / "no-such-hook").string()));
    for (const auto& p : problems) {
        EXPECT_THAT(format_problem(p), Not(HasSubstr("a-good-secret")));
        EXPECT_THAT(format_problem(p), Not(HasSubstr("SECRET-TOKEN")));
    }

    env.variables["HOOK_ENV"] = "https://hooks.example/x";
    write("creds/missing-credential", "now-here");
    write("no-such-hook", "https://hooks.example/y");
    EXPECT_THAT(check_credentials(c, env), SizeIs(0));
}

TEST(environment_test, from_process_sees_the_environment) {
    ::setenv("ATLAS_RESTORED_CONFIG_TEST_VAR", "v=1", 1);
    auto env = environment::from_process();
    EXPECT_EQ(env.get("ATLAS_RESTORED_CONFIG_TEST_VAR"), "v=1");
    EXPECT_FALSE(env.get("ATLAS_RESTORED_CONFIG_TEST_UNSET"));
}

}  // namespace
}  // namespace atlas_restored::config::testing
