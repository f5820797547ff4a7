// Log lines: the three styles (text, journald, JSON), run context, one event a line, levels from
// the config and $SPDLOG_LEVEL, and the redaction every line passes through. The end-to-end tests
// point the sink at a temporary file instead of stderr.

#include "util/logging.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <fcntl.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace atlas_restored {
namespace {

using namespace std::chrono_literals;
namespace lvl = spdlog::level;

// 2025-06-15T15:06:40.250Z
const auto t0 = std::chrono::system_clock::time_point(1'750'000'000'250ms);

TEST(LogFormat, TextLinesCarryTimestampLevelAndLogger) {
    const log_style text{log_format::text, false};
    EXPECT_EQ(format_log_line(text, lvl::info, "http", "connected to cloud.mongodb.com:443", t0),
              "2025-06-15T15:06:40.250Z info http: connected to cloud.mongodb.com:443\n");
    EXPECT_EQ(format_log_line(text, lvl::warn, "app", "reload refused", t0),
              "2025-06-15T15:06:40.250Z warning app: reload refused\n");
}

TEST(LogFormat, JournalLinesHavePriorityAndNoTimestamp) {
    const log_style journal{log_format::text, true};
    EXPECT_EQ(format_log_line(journal, lvl::err, "runs", "boom", t0), "<3>runs: boom\n");
    EXPECT_EQ(format_log_line(journal, lvl::warn, "runs", "hmm", t0), "<4>runs: hmm\n");
    EXPECT_EQ(format_log_line(journal, lvl::info, "runs", "ok", t0), "<6>runs: ok\n");
    EXPECT_EQ(format_log_line(journal, lvl::debug, "runs", "detail", t0), "<7>runs: detail\n");
    EXPECT_EQ(format_log_line(journal, lvl::trace, "runs", "more", t0), "<7>runs: more\n");
    EXPECT_EQ(format_log_line(journal, lvl::critical, "app", "dying", t0), "<2>app: dying\n");
}

TEST(LogFormat, RunContextIsNamedOnEveryLine) {
    const log_context run{"orders-weekly-drill", "r-42"};
    EXPECT_EQ(format_log_line({log_format::text, true}, lvl::info, "runs", "submitted", t0, &run),
              "<6>runs: policy=orders-weekly-drill run_id=r-42: submitted\n");
    EXPECT_EQ(format_log_line({log_format::json, false}, lvl::info, "runs", "submitted", t0, &run),
              R"({"ts":"2025-06-15T15:06:40.250Z","level":"info","logger":"runs","msg":"submitted",)"
              R"("policy":"orders-weekly-drill","run_id":"r-42"})"
              "\n");
}

TEST(LogFormat, JsonEscapesAndKeepsJournalPriority) {
    EXPECT_EQ(
        format_log_line({log_format::json, false}, lvl::err, "atlas", "say \"no\"\\\n\x01", t0),
        R"({"ts":"2025-06-15T15:06:40.250Z","level":"error","logger":"atlas","msg":"say \"no\"\\\n\u0001"})"
        "\n");
    // Under journald the priority prefix comes first; the journal strips it and keeps pure JSON.
    EXPECT_EQ(format_log_line({log_format::json, true}, lvl::warn, "a", "m", t0),
              R"(<4>{"ts":"2025-06-15T15:06:40.250Z","level":"warning","logger":"a","msg":"m"})"
              "\n");
}

TEST(LogFormat, OneEventIsOneLine) {
    const std::string line =
        format_log_line({log_format::text, false}, lvl::info, "cli", "first\nsecond\r\nthird\x07", t0);
    EXPECT_EQ(line, "2025-06-15T15:06:40.250Z info cli: first\\nsecond\\r\\nthird?\n");
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
}

TEST(LogFormat, ParsesLevelsAndFormats) {
    EXPECT_EQ(parse_log_level("debug"), lvl::debug);
    EXPECT_EQ(parse_log_level("WARN"), lvl::warn);
    EXPECT_EQ(parse_log_level("warning"), lvl::warn);
    EXPECT_EQ(parse_log_level("error"), lvl::err);
    EXPECT_EQ(parse_log_level("off"), lvl::off);
    EXPECT_FALSE(parse_log_level("verbose"));
    EXPECT_FALSE(parse_log_level(""));
    EXPECT_EQ(parse_log_format("json"), log_format::json);
    EXPECT_EQ(parse_log_format("text"), log_format::text);
    EXPECT_FALSE(parse_log_format("xml"));
}

TEST(Redaction, RemovesQueryStringsAndUserinfoFromUrls) {
    EXPECT_EQ(redact_log_text("GET https://restore.mongodb.net/dl/file.tar.gz?sig=abc123&exp=99 failed"),
              "GET https://restore.mongodb.net/dl/file.tar.gz?<redacted> failed");
    EXPECT_EQ(redact_log_text("url \"https://h/p?token=s3cr3t#frag\""),
              "url \"https://h/p?<redacted>#frag\"");
    EXPECT_EQ(redact_log_text("proxy http://user:pa55@proxy.corp:3128 down"),
              "proxy http://<redacted>@proxy.corp:3128 down");
    // Nothing to hide: unchanged, including Atlas API paths (no secrets in them).
    EXPECT_EQ(redact_log_text("listed jobs via /api/atlas/v2/groups/x/restoreJobs?batchId=b1 in 120ms"),
              "listed jobs via /api/atlas/v2/groups/x/restoreJobs?batchId=b1 in 120ms");
    EXPECT_EQ(redact_log_text("https://cloud.mongodb.com/api/atlas/v2 ok"),
              "https://cloud.mongodb.com/api/atlas/v2 ok");
}

TEST(Redaction, RemovesSecretValuesByKey) {
    EXPECT_EQ(redact_log_text(R"(delivery {"authHeader":"X-Auth","authValue":"tok-123456"})"),
              R"(delivery {"authHeader":"X-Auth","authValue":"<redacted>"})");
    EXPECT_EQ(redact_log_text("authValue=tok-123456 next"), "authValue=<redacted> next");
    EXPECT_EQ(redact_log_text(R"({"access_token": "eyJhbGciOi.x.y", "expires_in": 3600})"),
              R"({"access_token": "<redacted>", "expires_in": 3600})");
    EXPECT_EQ(redact_log_text("grant_type=client_credentials&client_secret=sk_live_1"),
              "grant_type=client_credentials&client_secret=<redacted>");
    EXPECT_EQ(redact_log_text("private_key: 9f0e6a2c-private"), "private_key: <redacted>");
    // Names that merely contain a key word are not values.
    EXPECT_EQ(redact_log_text("client_secret_file: /run/credentials/x/atlas-client-secret"),
              "client_secret_file: /run/credentials/x/atlas-client-secret");
    EXPECT_EQ(redact_log_text("cannot read the secret file"), "cannot read the secret file");
}

TEST(Redaction, RemovesAuthorizationCredentials) {
    EXPECT_EQ(redact_log_text("Authorization: Digest username=\"abcdefgh\", response=\"0123\""),
              "Authorization: <redacted>");
    EXPECT_EQ(redact_log_text(R"({"Authorization":"Bearer abc.def","Accept":"x"})"),
              R"({"Authorization":"<redacted>","Accept":"x"})");
    EXPECT_EQ(redact_log_text("sent Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig to atlas"),
              "sent Bearer <redacted> to atlas");
    EXPECT_EQ(redact_log_text("with Basic bWRiX3NhX2lkOnNlY3JldA== header"), "with Basic <redacted> header");
    EXPECT_EQ(redact_log_text("Basic auth is not used"), "Basic auth is not used");
}

TEST(JournalStream, RecognisesTheStreamItNames) {
    testing::temp_dir dir;
    testing::write_file(dir / "f", "");
    const int fd = ::open((dir / "f").c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    struct stat st {};
    ASSERT_EQ(::fstat(fd, &st), 0);
    const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
    EXPECT_TRUE(is_journal_stream(mine.c_str(), fd));
    EXPECT_FALSE(is_journal_stream(other.c_str(), fd));  // inherited, but we write elsewhere
    EXPECT_TRUE(is_journal_stream("1", fd));             // set, not the documented form: trusted
    EXPECT_FALSE(is_journal_stream("", fd));
    EXPECT_FALSE(is_journal_stream(nullptr, fd));
    ::close(fd);
}

// Points logging at a file for one test and back at stderr afterwards.
class LoggingToFile : public ::testing::Test {
  protected:
    void SetUp() override {
        ::unsetenv("SPDLOG_LEVEL");
        ::unsetenv("JOURNAL_STREAM");
        testing::write_file(file_, "");
        fd_ = ::open(file_.c_str(), O_WRONLY | O_APPEND);
        ASSERT_GE(fd_, 0);
    }
    void TearDown() override {
        ::unsetenv("SPDLOG_LEVEL");
        ::unsetenv("JOURNAL_STREAM");
        EXPECT_TRUE(configure_logging({.level = "info", .journal = false, .fd = 2}));
        ::close(fd_);
    }
    std::vector<std::string> lines() const {
        std::istringstream in(testing::read_file(file_));
        std::vector<std::string> out;
        for (std::string line; std::getline(in, line);) {
            out.push_back(line);
        }
        return out;
    }
    std::string journal_stream_value() const {
        struct stat st {};
        ::fstat(fd_, &st);
        return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    }

    testing::temp_dir dir_;
    std::filesystem::path file_ = dir_ / "log";
    int fd_ = -1;
};

TEST_F(LoggingToFile, ModuleAndRunLoggersWriteJournalLinesWhenJournalStreamNamesTheSink) {
    ::setenv("JOURNAL_STREAM", journal_stream_value().c_str(), 1);
    ASSERT_TRUE(configure_logging({.level = "info", .fd = fd_}));
    module_logger("http")->info("connected");
    module_logger("http")->debug("not at info");
    run_logger("orders-weekly-drill", "r-1")->warn("link expires in {} minutes", 30);
    run_logger("orders-weekly-drill", "r-1")->debug("not at info either");
    spdlog::error("from the default logger");
    EXPECT_EQ(lines(),
              (std::vector<std::string>{
                  "<6>http: connected",
                  "<4>runs: policy=orders-weekly-drill run_id=r-1: link expires in 30 minutes",
                  "<3>atlas-restored: from the default logger"}));
}

TEST_F(LoggingToFile, TextLinesHaveTimestampsOutsideTheJournal) {
    ASSERT_TRUE(configure_logging({.level = "debug", .fd = fd_}));
    module_logger("state")->debug("opened");
    const auto got = lines();
    ASSERT_EQ(got.size(), 1u);
    // 2025-06-15T15:06:40.250Z debug state: opened
    EXPECT_EQ(got[0].size(), 24 + std::string(" debug state: opened").size()) << got[0];
    EXPECT_EQ(got[0].substr(24), " debug state: opened");
    EXPECT_EQ(got[0][10], 'T');
    EXPECT_EQ(got[0][23], 'Z');
}

TEST_F(LoggingToFile, JsonLinesCarryRunFields) {
    ASSERT_TRUE(
        configure_logging({.level = "info", .format = log_format::json, .journal = false, .fd = fd_}));
    run_logger("p", "r-9")->info("downloaded {} bytes", 42);
    const auto got = lines();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].rfind("{\"ts\":\"", 0), 0u) << got[0];
    EXPECT_NE(
        got[0].find(
            R"("level":"info","logger":"runs","msg":"downloaded 42 bytes","policy":"p","run_id":"r-9"})"),
        std::string::npos)
        << got[0];
}

TEST_F(LoggingToFile, SpdlogLevelOverridesTheConfiguredLevel) {
    ::setenv("SPDLOG_LEVEL", "debug,http=warn,runs=trace", 1);
    ASSERT_TRUE(configure_logging({.level = "error", .journal = true, .fd = fd_}));
    module_logger("atlas")->debug("atlas debug");
    module_logger("http")->info("http info is below http=warn");
    module_logger("http")->warn("http warn");
    run_logger("p", "r")->trace("run trace");
    EXPECT_EQ(lines(),
              (std::vector<std::string>{
                  "<7>atlas: atlas debug", "<4>http: http warn", "<7>runs: policy=p run_id=r: run trace"}));
}

TEST_F(LoggingToFile, ReloadChangesTheLevelOfEveryLogger) {
    ASSERT_TRUE(configure_logging({.level = "info", .journal = true, .fd = fd_}));
    auto run = run_logger("p", "r");  // made before the change, kept for the run's life
    run->debug("hidden");
    ASSERT_TRUE(set_log_level("debug"));
    run->debug("shown");
    module_logger("app")->debug("app shown");
    EXPECT_FALSE(set_log_level("loud"));
    EXPECT_EQ(lines(), (std::vector<std::string>{"<7>runs: policy=p run_id=r: shown", "<7>app: app shown"}));
}

TEST_F(LoggingToFile, LoggersMadeBeforeConfigurationAreSwitchedOver) {
    auto early = module_logger("early-module");  // e.g. a static logger made during start-up
    ASSERT_TRUE(configure_logging({.level = "info", .journal = true, .fd = fd_}));
    early->info("after configure");
    EXPECT_EQ(lines(), (std::vector<std::string>{"<6>early-module: after configure"}));
}

TEST_F(LoggingToFile, SecretsNeverReachTheSink) {
    ASSERT_TRUE(configure_logging({.level = "info", .journal = true, .fd = fd_}));
    run_logger("p", "r")->info("downloading https://dl.example/f.tar.gz?X-Signature=SIGSECRET from {}",
                               R"({"authValue":"AUTHSECRET"})");
    const std::string text = testing::read_file(file_);
    EXPECT_EQ(text.find("SIGSECRET"), std::string::npos) << text;
    EXPECT_EQ(text.find("AUTHSECRET"), std::string::npos) << text;
    EXPECT_NE(text.find("https://dl.example/f.tar.gz?<redacted>"), std::string::npos) << text;
}

TEST_F(LoggingToFile, RefusesAnUnknownLevel) {
    auto r = configure_logging({.level = "chatty", .fd = fd_});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_input);
    EXPECT_NE(r.error().message.find("chatty"), std::string::npos);
}

TEST_F(LoggingToFile, ABadSpdlogLevelEntryIsReportedNotFatal) {
    ::setenv("SPDLOG_LEVEL", "loud", 1);
    ASSERT_TRUE(configure_logging({.level = "info", .journal = true, .fd = fd_}));
    const auto got = lines();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].rfind("<4>atlas-restored: ignoring SPDLOG_LEVEL entry 'loud'", 0), 0u) << got[0];
}

}  // namespace
}  // namespace atlas_restored
