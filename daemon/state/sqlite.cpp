#include "state/sqlite.hpp"

#include <sqlite3.h>

#include <utility>

namespace atlas_restored::state {

db::db(sqlite3* handle, std::filesystem::path path, bool read_only)
    : handle_(handle), path_(std::move(path)), read_only_(read_only) {}

db::db(db&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)),
      path_(std::move(other.path_)),
      read_only_(other.read_only_) {}

db& db::operator=(db&& other) noexcept {
    if (this != &other) {
        if (handle_ != nullptr) {
            sqlite3_close_v2(handle_);
        }
        handle_ = std::exchange(other.handle_, nullptr);
        path_ = std::move(other.path_);
        read_only_ = other.read_only_;
    }
    return *this;
}

db::~db() {
    if (handle_ != nullptr) {
        // _v2: statements still alive (a bug) do not keep the close from happening later.
        sqlite3_close_v2(handle_);
    }
}

result<db> db::open(const std::filesystem::path& path) {
    return open_with(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, false);
}

result<db> db::open_read_only(const std::filesystem::path& path) {
    return open_with(path, SQLITE_OPEN_READONLY, true);
}

result<db> db::open_with(const std::filesystem::path& path, int flags, bool read_only) {
    sqlite3* handle = nullptr;
    // NOFOLLOW: the state file is ours, in our directory; a symlink there is not expected.
    const int rc =
        sqlite3_open_v2(path.c_str(), &handle, flags | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE, nullptr);
    if (rc != SQLITE_OK) {
        std::string message = "state database " + path.string() + ": cannot open: ";
        message += handle != nullptr ? sqlite3_errmsg(handle) : sqlite3_errstr(rc);
        sqlite3_close_v2(handle);
        return make_error(errc::io_failed, std::move(message));
    }
    db connection(handle, path, read_only);
    if (sqlite3_busy_timeout(handle, busy_timeout_millis) != SQLITE_OK) {
        return connection.failure("cannot set the busy timeout");
    }
    return connection;
}

error db::failure(std::string_view what) const {
    std::string message = "state database " + path_.string() + ": ";
    message += what;
    if (handle_ != nullptr) {
        message += ": ";
        message += sqlite3_errmsg(handle_);
    }
    return make_error(errc::io_failed, std::move(message));
}

result<void> db::exec(std::string_view sql) {
    const std::string text(sql);
    char* raw_message = nullptr;
    const int rc = sqlite3_exec(handle_, text.c_str(), nullptr, nullptr, &raw_message);
    if (rc != SQLITE_OK) {
        std::string message = "state database " + path_.string() + ": ";
        message += raw_message != nullptr ? raw_message : sqlite3_errstr(rc);
        sqlite3_free(raw_message);
        return make_error(errc::io_failed, std::move(message));
    }
    return {};
}

result<statement> db::prepare(std::string_view sql) {
    sqlite3_stmt* handle = nullptr;
    const int rc = sqlite3_prepare_v2(handle_, sql.data(), static_cast<int>(sql.size()), &handle, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(handle);
        return failure("cannot prepare a statement");
    }
    return statement(handle, this);
}

result<std::int64_t> db::query_int(std::string_view sql) {
    auto st = prepare(sql);
    if (!st) {
        return st.error();
    }
    auto row = st->step();
    if (!row) {
        return row.error();
    }
    if (!*row) {
        return make_error(errc::not_found, "state database " + path_.string() + ": query returned no row");
    }
    return st->column_int64(0);
}

result<std::string> db::query_text(std::string_view sql) {
    auto st = prepare(sql);
    if (!st) {
        return st.error();
    }
    auto row = st->step();
    if (!row) {
        return row.error();
    }
    if (!*row) {
        return make_error(errc::not_found, "state database " + path_.string() + ": query returned no row");
    }
    return st->column_text(0);
}

int db::changes() const {
    return sqlite3_changes(handle_);
}

bool db::autocommit() const {
    return sqlite3_get_autocommit(handle_) != 0;
}

int db::last_error_code() const {
    return sqlite3_extended_errcode(handle_);
}

statement::statement(sqlite3_stmt* handle, const db* owner) : handle_(handle), owner_(owner) {}

statement::statement(statement&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)),
      owner_(other.owner_),
      bind_error_(other.bind_error_),
      bind_error_message_(std::move(other.bind_error_message_)) {}

statement& statement::operator=(statement&& other) noexcept {
    if (this != &other) {
        sqlite3_finalize(handle_);
        handle_ = std::exchange(other.handle_, nullptr);
        owner_ = other.owner_;
        bind_error_ = other.bind_error_;
        bind_error_message_ = std::move(other.bind_error_message_);
    }
    return *this;
}

statement::~statement() {
    sqlite3_finalize(handle_);
}

statement& statement::note_bind(int rc, int index) {
    if (rc != SQLITE_OK && bind_error_ == 0) {
        bind_error_ = rc;
        bind_error_message_ = "cannot bind parameter " + std::to_string(index) + ": " + sqlite3_errstr(rc);
    }
    return *this;
}

statement& statement::bind_int64(int index, std::int64_t value) {
    return note_bind(sqlite3_bind_int64(handle_, index, value), index);
}

statement& statement::bind(int index, std::string_view value) {
    return note_bind(
        sqlite3_bind_text64(handle_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
        index);
}

statement& statement::bind(int index, std::nullopt_t) {
    return note_bind(sqlite3_bind_null(handle_, index), index);
}

result<bool> statement::step() {
    if (bind_error_ != 0) {
        return make_error(errc::io_failed,
                          "state database " + owner_->path().string() + ": " + bind_error_message_);
    }
    const int rc = sqlite3_step(handle_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    // Leave the statement reusable; the connection's message still describes the failure.
    error e = owner_->failure("statement failed");
    sqlite3_reset(handle_);
    return e;
}

result<void> statement::run() {
    for (;;) {
        auto row = step();
        if (!row) {
            return row.error();
        }
        if (!*row) {
            return {};
        }
    }
}

void statement::reset() {
    sqlite3_reset(handle_);
}

bool statement::is_null(int column) const {
    return sqlite3_column_type(handle_, column) == SQLITE_NULL;
}

std::int64_t statement::column_int64(int column) const {
    return sqlite3_column_int64(handle_, column);
}

std::string statement::column_text(int column) const {
    const auto* text = sqlite3_column_text(handle_, column);
    if (text == nullptr) {
        return {};
    }
    return std::string(reinterpret_cast<const char*>(text),
                       static_cast<std::size_t>(sqlite3_column_bytes(handle_, column)));
}

std::optional<std::int64_t> statement::column_optional_int64(int column) const {
    if (is_null(column)) {
        return std::nullopt;
    }
    return column_int64(column);
}

std::optional<std::string> statement::column_optional_text(int column) const {
    if (is_null(column)) {
        return std::nullopt;
    }
    return column_text(column);
}

std::int64_t memory_used() {
    return static_cast<std::int64_t>(sqlite3_memory_used());
}

result<transaction> transaction::begin(db& connection) {
    if (auto r = connection.exec("BEGIN IMMEDIATE"); !r) {
        return r.error();
    }
    return transaction(&connection);
}

result<transaction> transaction::begin_read(db& connection) {
    if (auto r = connection.exec("BEGIN"); !r) {
        return r.error();
    }
    return transaction(&connection);
}

transaction::transaction(transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

transaction::~transaction() {
    if (db_ != nullptr && !db_->autocommit()) {
        // Nothing useful to do if the rollback itself fails: SQLite rolls back on close anyway.
        (void)db_->exec("ROLLBACK");
    }
}

result<void> transaction::commit() {
    if (db_ == nullptr) {
        return make_error(errc::invalid_input, "transaction already finished");
    }
    if (auto r = db_->exec("COMMIT"); !r) {
        return r;  // still open: the destructor rolls it back
    }
    db_ = nullptr;
    return {};
}

}  // namespace atlas_restored::state
