#pragma once
// The state database's schema and its versioned migrations (PRAGMA user_version), and the checks
// that keep us from touching a file we do not understand: a corrupt or non-SQLite file, a SQLite
// database some other program made, or one a newer atlas-restored has migrated. Such a file is
// refused with a message naming it and is never written, truncated or deleted.

#include "state/sqlite.hpp"
#include "util/error.hpp"

#include <cstdint>
#include <span>

namespace atlas_restored::state {

// PRAGMA application_id of our databases ("ARDB"): tells ours from other SQLite files.
inline constexpr std::int32_t application_id = 0x41524442;

struct migration {
    int version;      // user_version after this step; steps are numbered 1, 2, 3, …
    const char* sql;  // applied inside the migration transaction
};

// Every migration this binary knows, in order. Never edit a released step: append a new one.
std::span<const migration> migrations();

// The schema version this binary writes (the last migration's version).
int current_schema_version();

// Reads the file's schema version without writing anything. Refuses (errc::io_failed, a message
// naming the file) a file that is not a readable SQLite database, a SQLite database that is not
// ours, and one whose version is newer than `known_version`.
result<int> inspect_schema(db& connection, int known_version);

// PRAGMA quick_check; refuses a database that fails it.
result<void> check_integrity(db& connection);

// Applies the steps of `steps` above the file's version in one IMMEDIATE transaction (all or
// nothing) and sets user_version and application_id. `steps` is a parameter so tests can run
// other migration lists; the daemon uses migrations().
result<void> migrate(db& connection, std::span<const migration> steps);

// What the daemon does with its read-write connection, in this order: inspect (nothing written
// yet), quick_check, WAL + synchronous=FULL + foreign_keys, migrate.
result<void> prepare_for_writing(db& connection);

// What a read-only reader does: inspect, require exactly the current version (an older file is
// migrated by the daemon, which a reader must not do), quick_check, and PRAGMA query_only.
result<void> prepare_for_reading(db& connection);

}  // namespace atlas_restored::state
