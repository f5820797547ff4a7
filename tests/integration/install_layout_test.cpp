// What `cmake --install` ships and where (FHS via GNUInstallDirs), and that the shipped example
// configurations are valid for the real binary.

#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>

namespace atlas_restored::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const fs::path source_dir(SOURCE_DIR);

const std::vector<std::string> documents = {
    "configuration.md", "runbook.md", "drills.md", "architecture.md", "security.md", "operations.md"};

run_result cmake_install(const temp_dir& logs,
                         std::vector<std::string> args,
                         std::map<std::string, std::string> env = {}) {
    std::vector<std::string> argv = {CMAKE_COMMAND, "--install", BUILD_DIR};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command({.argv = argv, .env = std::move(env), .output_dir = logs.path(), .name = "install"},
                       120s);
}

// Every regular file and directory under root, relative to it.
std::set<std::string> tree(const fs::path& root) {
    std::set<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        out.insert(fs::relative(e.path(), root).string());
    }
    return out;
}

TEST(InstallLayout, PrefixInstallPutsEveryPieceInItsPlace) {
    temp_dir logs("install-logs");
    temp_dir stage("install-stage");
    const auto r = cmake_install(logs, {"--prefix", stage.path().string()});
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    const fs::path p = stage.path();

    const auto bin = p / "bin/atlas-restored";
    ASSERT_TRUE(fs::is_regular_file(bin));
    EXPECT_NE(fs::status(bin).permissions() & fs::perms::owner_exec, fs::perms::none);
    const auto version =
        run_command({.argv = {bin.string(), "--version"}, .output_dir = logs.path(), .name = "v"}, 30s);
    EXPECT_EQ(version.status, 0) << version.err;
    EXPECT_NE(version.out.find("atlas-restored "), std::string::npos) << version.out;

    EXPECT_EQ(read_file(p / "lib/systemd/system/atlas-restored.service"),
              read_file(source_dir / "systemd/atlas-restored.service"));

    // Not under the prefix /usr: the configuration goes to <prefix>/etc.
    EXPECT_EQ(read_file(p / "etc/atlas-restored/atlas-restored.example.yaml"),
              read_file(source_dir / "config/atlas-restored.example.yaml"));
    EXPECT_TRUE(fs::is_directory(p / "etc/atlas-restored/conf.d"));
    ASSERT_TRUE(fs::is_directory(p / "etc/atlas-restored/credentials"));
    // Secrets dropped there must not be readable by other users.
    EXPECT_EQ(fs::status(p / "etc/atlas-restored/credentials").permissions() & fs::perms::all,
              fs::perms::owner_all);

    EXPECT_EQ(read_file(p / "share/atlas-restored/prometheus/atlas-restored-rules.yaml"),
              read_file(source_dir / "config/prometheus/atlas-restored-rules.yaml"));
    for (const auto& doc : documents) {
        EXPECT_TRUE(fs::is_regular_file(p / "share/doc/atlas-restored" / doc)) << doc;
    }
    EXPECT_TRUE(fs::is_regular_file(p / "share/doc/atlas-restored/examples/oncall-example.yaml"));

    // Nothing else: no test programs, no fake-atlas, no build artefacts in a production install.
    for (const auto& entry : tree(p)) {
        EXPECT_TRUE(std::regex_match(entry, std::regex("(bin|lib|etc|share)(/.*)?"))) << entry;
        EXPECT_EQ(entry.find("fake"), std::string::npos) << entry;
        EXPECT_EQ(entry.find("test"), std::string::npos) << entry;
    }
}

TEST(InstallLayout, PackagePrefixPutsConfigurationInEtc) {
    // What the .deb gets: prefix /usr, staged under DESTDIR. The configuration belongs in /etc
    // (where the unit's ExecStart and ConfigurationDirectory= look), not /usr/etc.
    temp_dir logs("install-logs");
    temp_dir stage("install-destdir");
    const auto r = cmake_install(logs, {"--prefix", "/usr"}, {{"DESTDIR", stage.path().string()}});
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    const fs::path p = stage.path();
    EXPECT_TRUE(fs::is_regular_file(p / "usr/bin/atlas-restored"));
    EXPECT_TRUE(fs::is_regular_file(p / "usr/lib/systemd/system/atlas-restored.service"));
    EXPECT_TRUE(fs::is_regular_file(p / "etc/atlas-restored/atlas-restored.example.yaml"));
    EXPECT_TRUE(fs::is_directory(p / "etc/atlas-restored/credentials"));
    EXPECT_TRUE(fs::is_directory(p / "etc/atlas-restored/conf.d"));
    EXPECT_TRUE(fs::is_regular_file(p / "usr/share/doc/atlas-restored/runbook.md"));
    EXPECT_TRUE(fs::is_regular_file(p / "usr/share/atlas-restored/prometheus/atlas-restored-rules.yaml"));
    EXPECT_FALSE(fs::exists(p / "usr/etc"));
}

// ---- The shipped example configurations ----

run_result check(const fs::path& config, const temp_dir& logs) {
    return run_command({.argv = {ATLAS_RESTORED_BIN, "check", "--config", config.string()},
                        .unset_env = {"CREDENTIALS_DIRECTORY"},
                        .output_dir = logs.path(),
                        .name = "check"},
                       60s);
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

TEST(ShippedExamples, DemoConfigurationAndItsIncidentDropInAreValidOnceThePlaceholdersAreFilled) {
    temp_dir dir("demo-config");
    write_file(dir / "secret", "demo-secret\n");
    write_file(dir / "ca.pem", "");  // check names the CA file; the demo passes fake-atlas's
    fs::create_directories(dir / "state/conf.d");
    // The demo's on-call restore arrives as a drop-in, as an on-call engineer would add it.
    fs::copy_file(source_dir / "config/demo-incident.yaml", dir / "state/conf.d/demo-incident.yaml");
    std::string text = read_file(source_dir / "config/demo.yaml");
    text = replace_all(text, "@BASE_URL@", "https://127.0.0.1:8443");
    text = replace_all(text, "@CA_FILE@", (dir / "ca.pem").string());
    text = replace_all(text, "@SECRET_FILE@", (dir / "secret").string());
    text = replace_all(text, "@STATE_DIR@", (dir / "state").string());
    text = replace_all(text, "@METRICS_PORT@", "19464");
    // Every placeholder is one the header documents (and the demo script fills).
    ASSERT_EQ(text.find('@'), std::string::npos) << "an undocumented placeholder is left";
    write_file(dir / "demo.yaml", text);

    const auto r = check(dir / "demo.yaml", dir);
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("policy orders-drill"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("schedule: \"* * * * *\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("policy payments-incident"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("trigger: DEMO-INC-1"), std::string::npos) << r.out;
    EXPECT_EQ((r.out + r.err).find("demo-secret"), std::string::npos);
}

TEST(ShippedExamples, OnCallDropInIsValidBesideAMainFile) {
    temp_dir dir("oncall-config");
    write_file(dir / "secret", "s\n");
    write_file(dir / "conf.d/inc-4312.yaml", read_file(source_dir / "config/conf.d/oncall-example.yaml"));
    write_file(dir / "main.yaml",
               "atlas:\n"
               "  auth:\n"
               "    service_account:\n"
               "      client_id: mdb_sa_id_0123\n"
               "      client_secret_file: " +
                   (dir / "secret").string() +
                   "\n"
                   "state_dir: " +
                   (dir / "state").string() +
                   "\n"
                   "include: conf.d/*.yaml\n");
    const auto r = check(dir / "main.yaml", dir);
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("policy inc-4312-orders-restore"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("trigger: INC-4312"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace atlas_restored::testing
