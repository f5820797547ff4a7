#include "state/sqlite.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

namespace atlas_restored::state {
namespace {

using testing::temp_dir;

db open_db(const temp_dir& dir) {
    auto connection = db::open(dir / "t.db");
    EXPECT_TRUE(connection) << (connection ? "" : connection.error().message);
    return std::move(*connection);
}

TEST(sqlite, binds_and_reads_back_every_type) {
    temp_dir dir;
    auto c = open_db(dir);
    ASSERT_TRUE(c.exec("CREATE TABLE t (i INTEGER, s TEXT, n TEXT, b INTEGER)"));
    auto insert = c.prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4)");
    ASSERT_TRUE(insert);
    const std::string with_nul("a\0b", 3);  // text is bound by length, not up to a NUL
    insert->bind(1, std::int64_t{1} << 40)
        .bind(2, with_nul)
        .bind(3, std::optional<std::string>())
        .bind(4, true);
    ASSERT_TRUE(insert->run());

    auto select = c.prepare("SELECT i, s, n, b FROM t");
    ASSERT_TRUE(select);
    auto row = select->step();
    ASSERT_TRUE(row && *row);
    EXPECT_EQ(select->column_int64(0), std::int64_t{1} << 40);
    EXPECT_EQ(select->column_text(1), with_nul);
    EXPECT_TRUE(select->is_null(2));
    EXPECT_EQ(select->column_optional_text(2), std::nullopt);
    EXPECT_EQ(select->column_optional_int64(3), 1);
    row = select->step();
    ASSERT_TRUE(row);
    EXPECT_FALSE(*row);
}

TEST(sqlite, a_failed_bind_is_reported_by_step) {
    temp_dir dir;
    auto c = open_db(dir);
    ASSERT_TRUE(c.exec("CREATE TABLE t (i INTEGER)"));
    auto insert = c.prepare("INSERT INTO t VALUES (?1)");
    ASSERT_TRUE(insert);
    insert->bind(1, 5).bind(7, 6);  // there is no parameter 7
    auto r = insert->run();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::io_failed);
    EXPECT_NE(r.error().message.find("parameter 7"), std::string::npos) << r.error().message;
    EXPECT_EQ(c.query_int("SELECT count(*) FROM t").value(), 0);
}

TEST(sqlite, errors_name_the_file_and_carry_sqlites_message) {
    temp_dir dir;
    auto c = open_db(dir);
    auto st = c.prepare("SELECT * FROM no_such_table");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, errc::io_failed);
    EXPECT_NE(st.error().message.find((dir / "t.db").string()), std::string::npos) << st.error().message;
    EXPECT_NE(st.error().message.find("no such table"), std::string::npos) << st.error().message;
}

TEST(sqlite, transaction_rolls_back_unless_committed) {
    temp_dir dir;
    auto c = open_db(dir);
    ASSERT_TRUE(c.exec("CREATE TABLE t (i INTEGER)"));
    {
        auto txn = transaction::begin(c);
        ASSERT_TRUE(txn);
        EXPECT_FALSE(c.autocommit());
        ASSERT_TRUE(c.exec("INSERT INTO t VALUES (1)"));
    }
    EXPECT_TRUE(c.autocommit());
    EXPECT_EQ(c.query_int("SELECT count(*) FROM t").value(), 0);
    {
        auto txn = transaction::begin(c);
        ASSERT_TRUE(txn);
        ASSERT_TRUE(c.exec("INSERT INTO t VALUES (2)"));
        ASSERT_TRUE(txn->commit());
        EXPECT_FALSE(txn->commit());  // only once
    }
    EXPECT_EQ(c.query_int("SELECT count(*) FROM t").value(), 1);
}

TEST(sqlite, a_second_writer_waits_then_reports_busy) {
    temp_dir dir;
    auto a = open_db(dir);
    auto b = open_db(dir);
    ASSERT_TRUE(a.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (i INTEGER)"));
    ASSERT_TRUE(b.exec("PRAGMA busy_timeout = 50"));  // keep the test short
    auto held = transaction::begin(a);
    ASSERT_TRUE(held);
    auto second = transaction::begin(b);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, errc::io_failed);
    EXPECT_NE(second.error().message.find("locked"), std::string::npos) << second.error().message;
}

TEST(sqlite, read_only_open_needs_an_existing_file_and_cannot_write) {
    temp_dir dir;
    auto missing = db::open_read_only(dir / "missing.db");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, errc::io_failed);
    EXPECT_FALSE(std::filesystem::exists(dir / "missing.db"));

    {
        auto c = open_db(dir);
        ASSERT_TRUE(c.exec("CREATE TABLE t (i INTEGER); INSERT INTO t VALUES (1)"));
    }
    auto ro = db::open_read_only(dir / "t.db");
    ASSERT_TRUE(ro);
    EXPECT_TRUE(ro->read_only());
    EXPECT_EQ(ro->query_int("SELECT i FROM t").value(), 1);
    EXPECT_FALSE(ro->exec("INSERT INTO t VALUES (2)"));
}

}  // namespace
}  // namespace atlas_restored::state
