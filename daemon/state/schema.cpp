#include "state/schema.hpp"

#include <sqlite3.h>

#include <array>
#include <string>

namespace atlas_restored::state {
namespace {

// Schema version 1.
//
// No column holds a credential or a download URL: `authValue`, `authHeader`, `url` and `urlV2`
// are re-read from Atlas whenever a download needs them (SPEC §4), so a copied or leaked database
// gives nobody access to a backup. Free-text columns (runs.error, reloads.message) are written
// through strip_urls() by the store, and an intent's request body (the create call's JSON, which
// has no secret field) is refused if it looks like it carries one. tests/unit/state/schema_test.cpp
// pins the full list of columns, so a new column has to be looked at before it can exist.
//
// STRICT tables make SQLite enforce the declared types. Allowed values of the `state` columns
// are checked by the store rather than by CHECK constraints, which SQLite cannot alter without
// rebuilding the table.
constexpr const char* schema_v1 = R"sql(
CREATE TABLE runs (
    seq                INTEGER PRIMARY KEY,      -- insertion order: "oldest first"
    id                 TEXT NOT NULL UNIQUE,
    policy             TEXT NOT NULL,
    run_trigger        TEXT NOT NULL,            -- schedule | manual | the trigger value
    started_by         TEXT NOT NULL DEFAULT '', -- e.g. the unix user behind run-now
    state              TEXT NOT NULL,
    error              TEXT NOT NULL DEFAULT '', -- "reason_code: sentence", '' if none
    group_id           TEXT NOT NULL,
    cluster            TEXT NOT NULL,
    method             TEXT NOT NULL,
    restore_point_json TEXT NOT NULL,            -- the resolved restore point
    snapshot_id        TEXT,
    snapshot_time      TEXT,
    batch_id           TEXT,
    config_digest      TEXT NOT NULL,
    planned_at         INTEGER,                  -- Unix milliseconds, all six
    created_at         INTEGER,
    submitted_at       INTEGER,
    ready_at           INTEGER,
    downloaded_at      INTEGER,
    finished_at        INTEGER,
    submissions        INTEGER NOT NULL DEFAULT 0 -- create calls made (resubmission on expiry)
) STRICT;
CREATE INDEX runs_by_policy ON runs (policy, seq);
CREATE INDEX runs_by_state ON runs (state);

-- Exactly-once submission: committed before the create call is sent.
CREATE TABLE intents (
    run_id            TEXT NOT NULL REFERENCES runs (id),
    submission_no     INTEGER NOT NULL,
    request_body_json TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    resolved          INTEGER NOT NULL DEFAULT 0,
    job_ids_json      TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (run_id, submission_no)
) STRICT;

-- Restore jobs and their deliveries, as last seen.
CREATE TABLE jobs (
    run_id          TEXT NOT NULL REFERENCES runs (id),
    job_id          TEXT NOT NULL,
    submission_no   INTEGER NOT NULL,
    batch_id        TEXT,
    status_name     TEXT NOT NULL,
    delivery_status TEXT,
    delivery_method TEXT,
    expires         TEXT,
    max_downloads   INTEGER,
    file_name       TEXT,
    created         TEXT,
    PRIMARY KEY (run_id, job_id)
) STRICT;

-- One downloaded file per job (HTTP delivery: one .tar.gz per job).
CREATE TABLE files (
    run_id         TEXT NOT NULL,
    job_id         TEXT NOT NULL,
    file_name      TEXT NOT NULL DEFAULT '',
    bytes_expected INTEGER,
    bytes_done     INTEGER NOT NULL DEFAULT 0,
    sha1_expected  TEXT,
    sha1_actual    TEXT,
    verified       INTEGER NOT NULL DEFAULT 0,
    attempts       INTEGER NOT NULL DEFAULT 0, -- GETs that may count against maxDownloads
    etag           TEXT,
    state          TEXT NOT NULL DEFAULT 'pending',
    PRIMARY KEY (run_id, job_id),
    FOREIGN KEY (run_id, job_id) REFERENCES jobs (run_id, job_id)
) STRICT;

-- A trigger value runs once per policy, ever.
CREATE TABLE consumed_triggers (
    policy        TEXT NOT NULL,
    trigger_value TEXT NOT NULL,
    run_id        TEXT NOT NULL REFERENCES runs (id),
    PRIMARY KEY (policy, trigger_value)
) STRICT;

-- The last schedule fire handled per policy (the missed-fire rule).
CREATE TABLE schedule_fires (
    policy    TEXT PRIMARY KEY,
    last_fire INTEGER NOT NULL
) STRICT;

-- Configuration reloads, newest last (a short history).
CREATE TABLE reloads (
    seq     INTEGER PRIMARY KEY,
    ok      INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    message TEXT NOT NULL DEFAULT ''
) STRICT;
)sql";

// Schema version 2: the run engine's additions.
//  - runs.policy_json: the policy settings a run was started with (JSON, no secrets: a policy names
//    no credential, only a profile), so a run whose policy was removed by a reload still finishes
//    after a restart, and a reload never changes a run in flight.
//  - jobs_by_job_id: the reconcile step excludes jobs other runs own, by job id.
constexpr const char* schema_v2 = R"sql(
ALTER TABLE runs ADD COLUMN policy_json TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_by_job_id ON jobs (job_id);
)sql";

// Schema version 3: the configuration in force, as the text of each effective section and policy
// (secrets only as references) and its digest, replaced at each start and successful reload, so
// that `check --against-state` can say what a reload would change without asking the daemon.
constexpr const char* schema_v3 = R"sql(
CREATE TABLE configuration_in_force (
    kind TEXT NOT NULL CHECK (kind IN ('digest', 'section', 'policy')),
    name TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (kind, name)
) STRICT;
)sql";

constexpr std::array<migration, 3> all_migrations{{
    {1, schema_v1},
    {2, schema_v2},
    {3, schema_v3},
}};

bool is_corruption(int extended_code) {
    const int primary = extended_code & 0xff;
    return primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT;
}

std::string name(const db& connection) {
    return "state database " + connection.path().string();
}

error refuse(const db& connection, const std::string& why) {
    return make_error(errc::io_failed,
                      name(connection) + " " + why +
                          "; refusing to touch it. Move it (with any -wal and -shm file beside it) "
                          "aside to start with an empty state; the runs it records are then forgotten");
}

error refuse_unreadable(const db& connection) {
    return refuse(
        connection,
        std::string("is not a SQLite database or is corrupt (") + sqlite3_errmsg(connection.handle()) + ")");
}

}  // namespace

std::span<const migration> migrations() {
    return all_migrations;
}

int current_schema_version() {
    return all_migrations.back().version;
}

result<int> inspect_schema(db& connection, int known_version) {
    auto version = connection.query_int("PRAGMA user_version");
    if (!version) {
        if (is_corruption(connection.last_error_code())) {
            return refuse_unreadable(connection);
        }
        return version.error();
    }
    auto app = connection.query_int("PRAGMA application_id");
    if (!app) {
        return app.error();
    }
    if (*app != 0 && *app != application_id) {
        return refuse(connection,
                      "belongs to another program (SQLite application_id " + std::to_string(*app) + ")");
    }
    if (*version == 0) {
        // Empty (new) or someone else's: only an empty database may become ours.
        auto objects = connection.query_int("SELECT count(*) FROM sqlite_schema");
        if (!objects) {
            if (is_corruption(connection.last_error_code())) {
                return refuse_unreadable(connection);
            }
            return objects.error();
        }
        if (*objects != 0) {
            return refuse(connection, "is a SQLite database that atlas-restored did not create");
        }
        return 0;
    }
    if (*app != application_id) {
        return refuse(connection, "is a SQLite database that atlas-restored did not create");
    }
    if (*version > known_version) {
        return make_error(errc::io_failed,
                          name(connection) + " has schema version " + std::to_string(*version) +
                              ", newer than this atlas-restored (" + std::to_string(known_version) +
                              "); refusing to touch it. Run the newer atlas-restored, or restore a "
                              "copy of the database from before the upgrade");
    }
    return static_cast<int>(*version);
}

result<void> check_integrity(db& connection) {
    auto st = connection.prepare("PRAGMA quick_check(5)");
    if (!st) {
        return st.error();
    }
    std::string problems;
    for (;;) {
        auto row = st->step();
        if (!row) {
            if (is_corruption(connection.last_error_code())) {
                return refuse_unreadable(connection);
            }
            return row.error();
        }
        if (!*row) {
            break;
        }
        auto line = st->column_text(0);
        if (line == "ok") {
            continue;
        }
        problems += problems.empty() ? "" : "; ";
        problems += line;
    }
    if (!problems.empty()) {
        return refuse(connection, "is corrupt (" + problems + ")");
    }
    return {};
}

result<void> migrate(db& connection, std::span<const migration> steps) {
    for (std::size_t i = 0; i < steps.size(); ++i) {
        if (steps[i].version != static_cast<int>(i) + 1) {
            return make_error(errc::invalid_input, "migrations must be numbered 1, 2, 3, … in order");
        }
    }
    const int target = steps.empty() ? 0 : steps.back().version;
    auto before = connection.query_int("PRAGMA user_version");
    if (!before) {
        return before.error();
    }
    if (*before == target) {
        return {};  // nothing to do: no write transaction at all
    }
    auto txn = transaction::begin(connection);
    if (!txn) {
        return txn.error();
    }
    // Read again under the write lock: another process may have migrated in between.
    auto version = inspect_schema(connection, target);
    if (!version) {
        return version.error();
    }
    for (const auto& step : steps) {
        if (step.version <= *version) {
            continue;
        }
        if (auto r = connection.exec(step.sql); !r) {
            return make_error(errc::io_failed,
                              "migrating to schema version " + std::to_string(step.version) +
                                  " failed (nothing was changed): " + r.error().message);
        }
    }
    // Both live in the database header and change with the transaction.
    if (auto r = connection.exec("PRAGMA user_version = " + std::to_string(target) +
                                 "; PRAGMA application_id = " + std::to_string(application_id));
        !r) {
        return r;
    }
    return txn->commit();
}

result<void> prepare_for_writing(db& connection) {
    // Nothing may be written before we know the file is ours and not newer: even switching the
    // journal mode rewrites the header, and closing the last connection to a WAL database copies
    // the WAL into the main file, so that checkpoint is off until the checks have passed.
    if (sqlite3_db_config(connection.handle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr) != SQLITE_OK) {
        return connection.failure("cannot turn off the checkpoint on close");
    }
    if (auto v = inspect_schema(connection, current_schema_version()); !v) {
        return v.error();
    }
    if (auto r = check_integrity(connection); !r) {
        return r;
    }
    if (sqlite3_db_config(connection.handle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, nullptr) != SQLITE_OK) {
        return connection.failure("cannot turn the checkpoint on close back on");
    }
    auto mode = connection.query_text("PRAGMA journal_mode = WAL");
    if (!mode) {
        return mode.error();
    }
    if (*mode != "wal") {
        return make_error(
            errc::io_failed,
            name(connection) + ": cannot switch to WAL journaling (journal mode is " + *mode + ")");
    }
    // FULL: a commit is on disk before the action it allows (a create call, a download GET).
    if (auto r = connection.exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON"); !r) {
        return r;
    }
    return migrate(connection, migrations());
}

result<void> prepare_for_reading(db& connection) {
    auto version = inspect_schema(connection, current_schema_version());
    if (!version) {
        return version.error();
    }
    if (*version == 0) {
        return make_error(errc::not_found,
                          name(connection) +
                              " is empty: atlas-restored has not started with this state "
                              "directory yet");
    }
    if (*version < current_schema_version()) {
        return make_error(errc::io_failed,
                          name(connection) + " has schema version " + std::to_string(*version) +
                              ", older than this atlas-restored (" +
                              std::to_string(current_schema_version()) +
                              "); the daemon upgrades it when it starts");
    }
    // Cheap at our size, and a clear refusal beats a query failing half-way through `status`.
    if (auto r = check_integrity(connection); !r) {
        return r;
    }
    return connection.exec("PRAGMA query_only = ON");
}

}  // namespace atlas_restored::state
