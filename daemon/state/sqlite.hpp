#pragma once
// Small RAII wrappers over the sqlite3 C API: a connection, prepared statements and IMMEDIATE
// transactions. Failures are values (errc::io_failed naming the database file and carrying
// SQLite's own message); nothing here throws for an expected failure.

#include "util/error.hpp"

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace atlas_restored::state {

class statement;

// How long a statement waits for another connection's write lock before failing with
// SQLITE_BUSY. Only a second writer can make us wait (WAL readers never block the writer).
inline constexpr int busy_timeout_millis = 5000;

// One connection. Move-only; closes on destruction.
class db {
  public:
    // Read-write; creates an empty file if none exists. Sets only the busy timeout: pragmas that
    // may write (journal_mode) are the caller's, after it has checked what the file holds.
    static result<db> open(const std::filesystem::path& path);
    // Read-only (for `status` while the daemon runs). The file must exist.
    static result<db> open_read_only(const std::filesystem::path& path);

    db(db&& other) noexcept;
    db& operator=(db&& other) noexcept;
    db(const db&) = delete;
    db& operator=(const db&) = delete;
    ~db();

    // Runs one or more statements whose rows, if any, are ignored.
    result<void> exec(std::string_view sql);
    result<statement> prepare(std::string_view sql);
    // The first column of the first row of a query (a PRAGMA, a count).
    result<std::int64_t> query_int(std::string_view sql);
    result<std::string> query_text(std::string_view sql);

    // Rows changed by the last INSERT/UPDATE/DELETE.
    int changes() const;
    // False while an explicit transaction is open.
    bool autocommit() const;
    // The extended result code of the last failed call.
    int last_error_code() const;
    bool read_only() const { return read_only_; }
    const std::filesystem::path& path() const { return path_; }
    sqlite3* handle() const { return handle_; }

    // errc::io_failed, "state database PATH: WHAT: <SQLite's message>".
    error failure(std::string_view what) const;

  private:
    db(sqlite3* handle, std::filesystem::path path, bool read_only);
    static result<db> open_with(const std::filesystem::path& path, int flags, bool read_only);

    sqlite3* handle_ = nullptr;
    std::filesystem::path path_;
    bool read_only_ = false;
};

// A prepared statement. Binding indexes start at 1, column indexes at 0. A failed bind is kept
// and reported by the next step(), so binds chain: st.bind(1, a).bind(2, b).
class statement {
  public:
    statement(statement&& other) noexcept;
    statement& operator=(statement&& other) noexcept;
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    ~statement();

    template <std::integral T>
    statement& bind(int index, T value) {
        return bind_int64(index, static_cast<std::int64_t>(value));
    }
    statement& bind(int index, std::string_view value);
    statement& bind(int index, std::nullopt_t);
    template <class T>
    statement& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind(index, std::nullopt);
    }

    // true: a row is available through the column accessors; false: the statement is done.
    result<bool> step();
    // Steps to completion, ignoring rows.
    result<void> run();
    // Makes the statement ready to run again (bindings are kept).
    void reset();

    bool is_null(int column) const;
    std::int64_t column_int64(int column) const;
    std::string column_text(int column) const;
    std::optional<std::int64_t> column_optional_int64(int column) const;
    std::optional<std::string> column_optional_text(int column) const;

  private:
    friend class db;
    statement(sqlite3_stmt* handle, const db* owner);
    statement& bind_int64(int index, std::int64_t value);
    statement& note_bind(int rc, int index);

    sqlite3_stmt* handle_ = nullptr;
    const db* owner_ = nullptr;
    int bind_error_ = 0;  // first failed bind's result code, 0 if none
    std::string bind_error_message_;
};

// Bytes SQLite has allocated in this process and not freed (sqlite3_memory_used()).
std::int64_t memory_used();

// BEGIN IMMEDIATE … COMMIT. IMMEDIATE takes the write lock up front, so a transaction that reads
// then writes cannot fail half-way with SQLITE_BUSY. Rolled back on destruction unless committed.
class transaction {
  public:
    static result<transaction> begin(db& connection);
    // BEGIN (deferred): for reads only, also on a read-only connection. Under WAL every read
    // until it ends sees one snapshot, whatever the daemon commits meanwhile.
    static result<transaction> begin_read(db& connection);

    transaction(transaction&& other) noexcept;
    transaction& operator=(transaction&&) = delete;
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;
    ~transaction();

    // Durable once this returns (synchronous=FULL on the daemon's connection).
    result<void> commit();

  private:
    explicit transaction(db* connection) : db_(connection) {}
    db* db_ = nullptr;  // nullptr once committed or rolled back
};

}  // namespace atlas_restored::state
