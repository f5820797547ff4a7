#include "state/schema.hpp"

#include "state/store.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <utility>

namespace atlas_restored::state {
namespace {

using testing::read_file;
using testing::temp_dir;
using testing::write_file;

std::filesystem::path db_file(const temp_dir& dir) {
    return store::database_path(dir.path());
}

// Makes a SQLite file by hand (rollback journal, so the main file holds everything once closed).
void make_database(const std::filesystem::path& path, const std::string& sql) {
    std::filesystem::create_directories(path.parent_path());
    auto c = db::open(path);
    ASSERT_TRUE(c) << c.error().message;
    ASSERT_TRUE(c->exec(sql));
}

void expect_refused_untouched(const temp_dir& dir, const std::string& expected_words) {
    const auto path = db_file(dir);
    const auto before = read_file(path);
    auto s = store::open(dir.path());
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, errc::io_failed);
    EXPECT_NE(s.error().message.find(path.string()), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find(expected_words), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find("refusing to touch it"), std::string::npos) << s.error().message;
    EXPECT_EQ(read_file(path), before);

    auto ro = store::open_read_only(dir.path());
    ASSERT_FALSE(ro);
    EXPECT_EQ(read_file(path), before);
}

TEST(schema, migrates_an_empty_database_to_the_current_version) {
    temp_dir dir;
    auto s = store::open(dir / "state");
    ASSERT_TRUE(s) << s.error().message;
    auto& c = s->connection();
    EXPECT_EQ(c.query_int("PRAGMA user_version").value(), current_schema_version());
    EXPECT_EQ(c.query_int("PRAGMA application_id").value(), application_id);
    EXPECT_EQ(current_schema_version(), static_cast<int>(migrations().size()));
}

TEST(schema, connection_uses_wal_full_sync_and_foreign_keys) {
    temp_dir dir;
    auto s = store::open(dir.path());
    ASSERT_TRUE(s) << s.error().message;
    auto& c = s->connection();
    EXPECT_EQ(c.query_text("PRAGMA journal_mode").value(), "wal");
    EXPECT_EQ(c.query_int("PRAGMA synchronous").value(), 2);  // FULL
    EXPECT_EQ(c.query_int("PRAGMA foreign_keys").value(), 1);
    EXPECT_EQ(c.query_int("PRAGMA busy_timeout").value(), busy_timeout_millis);
    EXPECT_EQ(c.query_text("PRAGMA quick_check").value(), "ok");
}

TEST(schema, reopening_does_not_migrate_again) {
    temp_dir dir;
    { ASSERT_TRUE(store::open(dir.path())); }
    auto s = store::open(dir.path());
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->connection().query_int("PRAGMA user_version").value(), current_schema_version());
}

TEST(schema, a_newer_schema_is_refused_and_left_untouched) {
    temp_dir dir;
    make_database(db_file(dir),
                  "CREATE TABLE runs (id TEXT); INSERT INTO runs VALUES ('r-1'); PRAGMA application_id = " +
                      std::to_string(application_id) +
                      "; PRAGMA user_version = " + std::to_string(current_schema_version() + 1));
    expect_refused_untouched(dir, "newer than this atlas-restored");
    auto s = store::open(dir.path());
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("schema version " + std::to_string(current_schema_version() + 1)),
              std::string::npos)
        << s.error().message;
}

TEST(schema, a_newer_schema_in_wal_mode_is_refused_and_left_untouched) {
    temp_dir dir;
    make_database(db_file(dir),
                  "PRAGMA journal_mode = WAL; CREATE TABLE runs (id TEXT); PRAGMA application_id = " +
                      std::to_string(application_id) + "; PRAGMA user_version = 99");
    expect_refused_untouched(dir, "newer than this atlas-restored");
}

// A newer daemon that crashed leaves its last commits in the -wal file. Refusing must not fold
// them into the main file either (closing the last connection would, by default).
TEST(schema, a_newer_schema_with_a_pending_wal_is_refused_and_neither_file_changes) {
    temp_dir dir;
    const auto path = db_file(dir);
    const auto wal = path.string() + "-wal";
    {
        std::filesystem::create_directories(path.parent_path());
        auto c = db::open(path);
        ASSERT_TRUE(c);
        ASSERT_TRUE(c->exec("PRAGMA journal_mode = WAL; CREATE TABLE runs (id TEXT)"));
        ASSERT_EQ(sqlite3_db_config(c->handle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr), SQLITE_OK);
        ASSERT_TRUE(c->exec("INSERT INTO runs VALUES ('r-1'); PRAGMA application_id = " +
                            std::to_string(application_id) + "; PRAGMA user_version = 99"));
    }
    ASSERT_TRUE(std::filesystem::exists(wal));
    ASSERT_GT(std::filesystem::file_size(wal), 0u);
    const auto wal_before = read_file(wal);
    expect_refused_untouched(dir, "newer than this atlas-restored");
    EXPECT_EQ(read_file(wal), wal_before);
}

TEST(schema, a_file_that_is_not_sqlite_is_refused_and_left_untouched) {
    temp_dir dir;
    std::string garbage;
    for (int i = 0; i < 8192; ++i) {
        garbage += static_cast<char>((i * 131 + 7) % 251);
    }
    write_file(db_file(dir), garbage);
    expect_refused_untouched(dir, "is not a SQLite database or is corrupt");
    EXPECT_FALSE(std::filesystem::exists(db_file(dir).string() + "-wal"));
}

TEST(schema, a_database_with_a_damaged_page_is_refused_and_left_untouched) {
    temp_dir dir;
    {
        auto s = store::open(dir.path());
        ASSERT_TRUE(s) << s.error().message;
    }  // closing the last connection checkpoints the WAL into the main file
    ASSERT_FALSE(std::filesystem::exists(db_file(dir).string() + "-wal"));
    const auto page_size = 4096;
    auto bytes = read_file(db_file(dir));
    ASSERT_GE(bytes.size(), 3u * page_size);
    std::fill(bytes.begin() + page_size, bytes.begin() + 2 * page_size, '\xab');  // page 2: a table root
    write_file(db_file(dir), bytes);
    expect_refused_untouched(dir, "corrupt");
}

TEST(schema, a_sqlite_database_of_another_program_is_refused_and_left_untouched) {
    temp_dir dir;
    make_database(db_file(dir), "CREATE TABLE accounts (name TEXT); INSERT INTO accounts VALUES ('x')");
    expect_refused_untouched(dir, "atlas-restored did not create");
}

TEST(schema, a_database_with_another_application_id_is_refused) {
    temp_dir dir;
    make_database(db_file(dir), "PRAGMA application_id = 1234");
    expect_refused_untouched(dir, "another program");
}

TEST(schema, an_empty_file_becomes_a_new_database) {
    temp_dir dir;
    write_file(db_file(dir), "");
    auto s = store::open(dir.path());
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->connection().query_int("PRAGMA user_version").value(), current_schema_version());
}

TEST(schema, later_migrations_apply_on_top_and_keep_data) {
    temp_dir dir;
    auto c = db::open(dir / "m.db");
    ASSERT_TRUE(c);
    const migration v1[] = {{1, "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (7)"}};
    ASSERT_TRUE(migrate(*c, v1));
    const migration v2[] = {{1, "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (7)"},
                            {2, "ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'"}};
    ASSERT_TRUE(migrate(*c, v2));
    EXPECT_EQ(c->query_int("PRAGMA user_version").value(), 2);
    EXPECT_EQ(c->query_int("SELECT a FROM t").value(), 7);  // step 1 did not run again
    EXPECT_EQ(c->query_int("SELECT count(*) FROM t").value(), 1);
    EXPECT_EQ(c->query_text("SELECT b FROM t").value(), "x");
}

TEST(schema, a_failing_migration_changes_nothing) {
    temp_dir dir;
    auto c = db::open(dir / "m.db");
    ASSERT_TRUE(c);
    const migration v1[] = {{1, "CREATE TABLE t (a INTEGER)"}};
    ASSERT_TRUE(migrate(*c, v1));
    const migration broken[] = {{1, "CREATE TABLE t (a INTEGER)"},
                                {2, "ALTER TABLE t ADD COLUMN b TEXT"},
                                {3, "CREATE TABLE t (a INTEGER)"}};  // t exists: fails
    auto r = migrate(*c, broken);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("schema version 3"), std::string::npos) << r.error().message;
    EXPECT_EQ(c->query_int("PRAGMA user_version").value(), 1);
    EXPECT_EQ(c->query_int("SELECT count(*) FROM pragma_table_info('t') WHERE name = 'b'").value(), 0);
    EXPECT_TRUE(c->autocommit());
}

TEST(schema, migrations_must_be_numbered_in_order) {
    temp_dir dir;
    auto c = db::open(dir / "m.db");
    ASSERT_TRUE(c);
    const migration gap[] = {{1, "SELECT 1"}, {3, "SELECT 1"}};
    auto r = migrate(*c, gap);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_input);
    EXPECT_EQ(c->query_int("PRAGMA user_version").value(), 0);
}

// Credentials never reach the database (SPEC §4): `authValue`, `authHeader`, `url` and `urlV2`
// are re-read from Atlas when a download needs them. This pins every column of the schema, so a
// new column fails here until someone has checked it cannot hold a URL or a credential and added
// it below. None of these holds one: ids, names, states, counts, sizes, hashes, times, the
// resolved restore point, a run's policy settings (a policy names a profile, never a credential),
// and the create call's body (which has no secret field; the store also
// refuses a body that looks like it carries one), and error/reload texts, which the store passes
// through strip_urls().
TEST(schema, no_column_can_hold_a_url_or_a_credential) {
    temp_dir dir;
    auto s = store::open(dir.path());
    ASSERT_TRUE(s) << s.error().message;
    auto st = s->connection().prepare(
        "SELECT m.name || '.' || p.name FROM sqlite_schema m, pragma_table_info(m.name) p "
        "WHERE m.type = 'table' ORDER BY 1");
    ASSERT_TRUE(st);
    std::set<std::string> columns;
    for (auto row = st->step(); row && *row; row = st->step()) {
        columns.insert(st->column_text(0));
    }
    const std::set<std::string> expected{
        "configuration_in_force.kind",
        "configuration_in_force.name",
        "configuration_in_force.text",  // describe.cpp's text: secrets only as references
        "consumed_triggers.policy",
        "consumed_triggers.run_id",
        "consumed_triggers.trigger_value",
        "files.attempts",
        "files.bytes_done",
        "files.bytes_expected",
        "files.etag",
        "files.file_name",
        "files.job_id",
        "files.run_id",
        "files.sha1_actual",
        "files.sha1_expected",
        "files.state",
        "files.verified",
        "intents.created_at",
        "intents.job_ids_json",
        "intents.request_body_json",
        "intents.resolved",
        "intents.run_id",
        "intents.submission_no",
        "jobs.batch_id",
        "jobs.created",
        "jobs.delivery_method",
        "jobs.delivery_status",
        "jobs.expires",
        "jobs.file_name",
        "jobs.job_id",
        "jobs.max_downloads",
        "jobs.run_id",
        "jobs.status_name",
        "jobs.submission_no",
        "reloads.at",
        "reloads.message",
        "reloads.ok",
        "reloads.seq",
        "runs.batch_id",
        "runs.cluster",
        "runs.config_digest",
        "runs.created_at",
        "runs.downloaded_at",
        "runs.error",
        "runs.finished_at",
        "runs.group_id",
        "runs.id",
        "runs.method",
        "runs.planned_at",
        "runs.policy",
        "runs.policy_json",
        "runs.ready_at",
        "runs.restore_point_json",
        "runs.run_trigger",
        "runs.seq",
        "runs.snapshot_id",
        "runs.snapshot_time",
        "runs.started_by",
        "runs.state",
        "runs.submissions",
        "runs.submitted_at",
        "schedule_fires.last_fire",
        "schedule_fires.policy",
    };
    EXPECT_EQ(columns, expected);
    for (auto name : columns) {
        std::transform(
            name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::tolower(ch); });
        for (const char* word : {"url", "auth", "secret", "token", "password", "key", "header"}) {
            EXPECT_EQ(name.find(word), std::string::npos) << name;
        }
    }
}

}  // namespace
}  // namespace atlas_restored::state
