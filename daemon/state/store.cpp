#include "state/store.hpp"

#include "state/schema.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <random>
#include <sys/file.h>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace atlas_restored::state {
namespace {

constexpr std::array<std::string_view, 8> run_states{
    "pending", "submitting", "waiting", "downloading", "verifying", "succeeded", "failed", "cancelled"};
constexpr std::array<std::string_view, 3> final_run_states{"succeeded", "failed", "cancelled"};
constexpr std::array<std::string_view, 4> file_states{"pending", "downloading", "verified", "failed"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& values, std::string_view value) {
    return std::find(values.begin(), values.end(), value) != values.end();
}

// A begun transaction, or none when the caller's in_transaction() already holds one: a write
// method then joins it and commits with it.
class write_scope {
  public:
    static result<write_scope> begin(db& connection) {
        write_scope scope;
        if (!connection.autocommit()) {
            return scope;
        }
        auto txn = transaction::begin(connection);
        if (!txn) {
            return txn.error();
        }
        scope.txn_.emplace(std::move(*txn));
        return scope;
    }
    result<void> commit() {
        if (txn_) {
            return txn_->commit();
        }
        return {};
    }

  private:
    std::optional<transaction> txn_;
};

// Column order shared by bind_run (parameters ?1…?21) and read_run (columns 0…20).
constexpr const char* run_columns =
    "id, policy, run_trigger, started_by, state, error, group_id, cluster, method, restore_point_json, "
    "snapshot_id, snapshot_time, batch_id, config_digest, planned_at, created_at, submitted_at, ready_at, "
    "downloaded_at, finished_at, submissions";

void bind_run(statement& st, const run_record& run) {
    st.bind(1, run.id)
        .bind(2, run.policy)
        .bind(3, run.trigger)
        .bind(4, run.started_by)
        .bind(5, run.state)
        .bind(6, strip_urls(run.error))
        .bind(7, run.group_id)
        .bind(8, run.cluster)
        .bind(9, run.method)
        .bind(10, run.restore_point_json)
        .bind(11, run.snapshot_id)
        .bind(12, run.snapshot_time)
        .bind(13, run.batch_id)
        .bind(14, run.config_digest)
        .bind(15, run.planned_at)
        .bind(16, run.created_at)
        .bind(17, run.submitted_at)
        .bind(18, run.ready_at)
        .bind(19, run.downloaded_at)
        .bind(20, run.finished_at)
        .bind(21, run.submissions);
}

run_record read_run(const statement& st) {
    run_record run;
    run.id = st.column_text(0);
    run.policy = st.column_text(1);
    run.trigger = st.column_text(2);
    run.started_by = st.column_text(3);
    run.state = st.column_text(4);
    run.error = st.column_text(5);
    run.group_id = st.column_text(6);
    run.cluster = st.column_text(7);
    run.method = st.column_text(8);
    run.restore_point_json = st.column_text(9);
    run.snapshot_id = st.column_optional_text(10);
    run.snapshot_time = st.column_optional_text(11);
    run.batch_id = st.column_optional_text(12);
    run.config_digest = st.column_text(13);
    run.planned_at = st.column_optional_int64(14);
    run.created_at = st.column_optional_int64(15);
    run.submitted_at = st.column_optional_int64(16);
    run.ready_at = st.column_optional_int64(17);
    run.downloaded_at = st.column_optional_int64(18);
    run.finished_at = st.column_optional_int64(19);
    run.submissions = static_cast<int>(st.column_int64(20));
    return run;
}

constexpr const char* job_columns =
    "run_id, job_id, submission_no, batch_id, status_name, delivery_status, delivery_method, expires, "
    "max_downloads, file_name, created";

job_record read_job(const statement& st) {
    job_record job;
    job.run_id = st.column_text(0);
    job.job_id = st.column_text(1);
    job.submission_no = static_cast<int>(st.column_int64(2));
    job.batch_id = st.column_optional_text(3);
    job.status_name = st.column_text(4);
    job.delivery_status = st.column_optional_text(5);
    job.delivery_method = st.column_optional_text(6);
    job.expires = st.column_optional_text(7);
    if (auto n = st.column_optional_int64(8)) {
        job.max_downloads = static_cast<std::int32_t>(*n);
    }
    job.file_name = st.column_optional_text(9);
    job.created = st.column_optional_text(10);
    return job;
}

constexpr const char* file_columns =
    "run_id, job_id, file_name, bytes_expected, bytes_done, sha1_expected, sha1_actual, verified, attempts, "
    "etag, state";

file_record read_file_row(const statement& st) {
    file_record file;
    file.run_id = st.column_text(0);
    file.job_id = st.column_text(1);
    file.file_name = st.column_text(2);
    file.bytes_expected = st.column_optional_int64(3);
    file.bytes_done = st.column_int64(4);
    file.sha1_expected = st.column_optional_text(5);
    file.sha1_actual = st.column_optional_text(6);
    file.verified = st.column_int64(7) != 0;
    file.attempts = static_cast<int>(st.column_int64(8));
    file.etag = st.column_optional_text(9);
    file.state = st.column_text(10);
    return file;
}

result<intent_record> read_intent(const db& connection, const statement& st) {
    intent_record intent;
    intent.run_id = st.column_text(0);
    intent.submission_no = static_cast<int>(st.column_int64(1));
    intent.request_body_json = st.column_text(2);
    intent.created_at = st.column_int64(3);
    intent.resolved = st.column_int64(4) != 0;
    boost::system::error_code ec;
    auto ids = boost::json::parse(st.column_text(5), ec);
    if (ec || !ids.is_array()) {
        return make_error(errc::io_failed,
                          "state database " + connection.path().string() + ": the job ids of run " +
                              intent.run_id + " are not a JSON array");
    }
    for (const auto& id : ids.get_array()) {
        if (!id.is_string()) {
            return make_error(errc::io_failed,
                              "state database " + connection.path().string() + ": a job id of run " +
                                  intent.run_id + " is not a string");
        }
        intent.job_ids.emplace_back(id.get_string());
    }
    return intent;
}

// Runs a query expected to yield at most one row, mapping it with `read`.
template <class Read>
auto query_one(statement& st, Read read) -> result<std::optional<decltype(read(st))>> {
    auto row = st.step();
    if (!row) {
        return row.error();
    }
    if (!*row) {
        return std::optional<decltype(read(st))>();
    }
    return std::optional<decltype(read(st))>(read(st));
}

template <class Read>
auto query_all(statement& st, Read read) -> result<std::vector<decltype(read(st))>> {
    std::vector<decltype(read(st))> rows;
    for (;;) {
        auto row = st.step();
        if (!row) {
            return row.error();
        }
        if (!*row) {
            return rows;
        }
        rows.push_back(read(st));
    }
}

bool is_lower_sha1(std::string_view text) {
    return text.size() == 40 && std::all_of(text.begin(), text.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

bool contains_ignoring_case(std::string_view text, std::string_view needle) {
    auto it = std::search(text.begin(), text.end(), needle.begin(), needle.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
    });
    return it != text.end();
}

error invalid(std::string message) {
    return make_error(errc::invalid_input, std::move(message));
}

error missing(std::string message) {
    return make_error(errc::not_found, std::move(message));
}

}  // namespace

bool is_run_state(std::string_view state) {
    return contains(run_states, state);
}

bool is_final_run_state(std::string_view state) {
    return contains(final_run_states, state);
}

bool is_file_state(std::string_view state) {
    return contains(file_states, state);
}

std::string make_run_id(std::int64_t unix_millis, std::uint32_t random_bits) {
    using namespace std::chrono;
    const sys_time<milliseconds> t{milliseconds{std::max<std::int64_t>(unix_millis, 0)}};
    const auto day = floor<days>(t);
    const year_month_day date{day};
    const hh_mm_ss time{floor<seconds>(t - day)};
    char text[40];
    std::snprintf(text,
                  sizeof text,
                  "r-%04d%02u%02u-%02d%02d%02d-%06x",
                  static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()),
                  static_cast<unsigned>(date.day()),
                  static_cast<int>(time.hours().count()),
                  static_cast<int>(time.minutes().count()),
                  static_cast<int>(time.seconds().count()),
                  static_cast<unsigned>(random_bits & 0xffffffu));
    return text;
}

std::string make_run_id(std::int64_t unix_millis) {
    std::random_device random;
    return make_run_id(unix_millis, static_cast<std::uint32_t>(random()));
}

std::string strip_urls(std::string_view text) {
    const auto starts_with = [](std::string_view s, std::string_view prefix) {
        return s.size() >= prefix.size() && contains_ignoring_case(s.substr(0, prefix.size()), prefix);
    };
    const auto ends_url = [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return std::isspace(u) || std::iscntrl(u) || c == '"' || c == '\'' || c == '<' || c == '>' ||
               c == '`';
    };
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const auto rest = text.substr(i);
        const std::size_t scheme = starts_with(rest, "https://") ? 8 : starts_with(rest, "http://") ? 7 : 0;
        if (scheme == 0) {
            out += text[i++];
            continue;
        }
        std::size_t end = i + scheme;
        while (end < text.size() && !ends_url(text[end])) {
            ++end;
        }
        // Sentence punctuation after a URL is not part of it.
        while (end > i + scheme &&
               std::string_view(".,;:)]}").find(text[end - 1]) != std::string_view::npos) {
            --end;
        }
        const auto url = text.substr(i + scheme, end - i - scheme);
        const auto authority_end = url.find_first_of("/?#");
        auto authority = url.substr(0, authority_end);
        if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
            authority = authority.substr(at + 1);  // user:password@
        }
        out += text.substr(i, scheme);
        out += authority;
        if (authority_end != std::string_view::npos) {
            out += "/…";
        }
        i = end;
    }
    return out;
}

std::filesystem::path store::database_path(const std::filesystem::path& state_dir) {
    return state_dir / file_name;
}

result<store> store::open(const std::filesystem::path& state_dir) {
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);
    if (ec) {
        return make_error(errc::io_failed,
                          "cannot create state directory " + state_dir.string() + ": " + ec.message());
    }
    auto connection = db::open(database_path(state_dir));
    if (!connection) {
        return connection.error();
    }
    if (auto r = prepare_for_writing(*connection); !r) {
        return r.error();
    }
    return store(std::move(*connection));
}

result<store> store::open_read_only(const std::filesystem::path& state_dir) {
    const auto path = database_path(state_dir);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        if (ec) {
            return make_error(errc::io_failed,
                              "cannot look for state database " + path.string() + ": " + ec.message());
        }
        return missing("no state database at " + path.string() +
                       ": atlas-restored has not started with this state directory yet");
    }
    auto connection = db::open_read_only(path);
    if (!connection) {
        return connection.error();
    }
    if (auto r = prepare_for_reading(*connection); !r) {
        return r.error();
    }
    return store(std::move(*connection));
}

result<void> store::in_transaction(const std::function<result<void>()>& body) {
    if (!db_.autocommit()) {
        return body();
    }
    auto txn = transaction::begin(db_);
    if (!txn) {
        return txn.error();
    }
    if (auto r = body(); !r) {
        return r;  // rolled back by txn's destructor
    }
    return txn->commit();
}

// --- runs

result<void> store::insert_run_unlocked(const run_record& run) {
    if (run.id.empty() || run.policy.empty()) {
        return invalid("a run needs an id and a policy");
    }
    if (!is_run_state(run.state)) {
        return invalid("unknown run state '" + run.state + "'");
    }
    auto st = db_.prepare(std::string("INSERT INTO runs (") + run_columns +
                          ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
                          "?17, ?18, ?19, ?20, ?21)");
    if (!st) {
        return st.error();
    }
    bind_run(*st, run);
    if (auto r = st->run(); !r) {
        if (db_.last_error_code() == SQLITE_CONSTRAINT_UNIQUE) {
            return invalid("run " + run.id + " exists already");
        }
        return r;
    }
    return {};
}

result<void> store::insert_run(const run_record& run) {
    auto scope = write_scope::begin(db_);
    if (!scope) {
        return scope.error();
    }
    if (auto r = insert_run_unlocked(run); !r) {
        return r;
    }
    return scope->commit();
}

result<bool> store::insert_run_consuming_trigger(const run_record& run, std::string_view trigger_value) {
    auto scope = write_scope::begin(db_);
    if (!scope) {
        return scope.error();
    }
    auto consumed = is_trigger_consumed(run.policy, trigger_value);
    if (!consumed) {
        return consumed.error();
    }
    if (*consumed) {
        return false;
    }
    if (auto r = insert_run_unlocked(run); !r) {
        return r.error();
    }
    auto fresh = consume_trigger_unlocked(run.policy, trigger_value, run.id);
    if (!fresh) {
        return fresh.error();
    }
    if (auto r = scope->commit(); !r) {
        return r.error();
    }
    return true;
}

result<void> store::write_run(const run_record& run) {
    auto st = db_.prepare(
        "UPDATE runs SET policy = ?2, run_trigger = ?3, started_by = ?4, state = ?5, error = ?6, group_id = "
        "?7, "
        "cluster = ?8, method = ?9, restore_point_json = ?10, snapshot_id = ?11, snapshot_time = ?12, "
        "batch_id = ?13, config_digest = ?14, planned_at = ?15, created_at = ?16, submitted_at = ?17, "
        "ready_at = ?18, downloaded_at = ?19, finished_at = ?20, submissions = ?21 WHERE id = ?1");
    if (!st) {
        return st.error();
    }
    bind_run(*st, run);
    return st->run();
}

result<void> store::update_run(const run_record& run) {
    if (!is_run_state(run.state)) {
        return invalid("unknown run state '" + run.state + "'");
    }
    auto scope = write_scope::begin(db_);
    if (!scope) {
        return scope.error();
    }
    auto current = get_run(run.id);
    if (!current) {
        return current.error();
    }
    if (!*current) {
        return missing("no run " + run.id);
    }
    if (is_final_run_state((*current)->state) && (*current)->state != run.state) {
        return invalid("run " + run.id + " is " + (*current)->state + " already and cannot become " +
                       run.state);
    }
    if (auto r = write_run(run); !r) {
        return r;
    }
    return scope->commit();
}

result<void> store::set_run_state(std::string_view run_id,
                                  std::string_view state,
                                  std::string_view error,
                                  std::optional<std::int64_t> finished_at) {
    auto scope = write_scope::begin(db_);
    if (!scope) {
        return scope.error();
    }
    auto current = get_run(run_id);
    if (!current) {
        return current.error();
    }
    if (!*current) {
        return missing("no run " + std::string(run_id));
    }
    auto run = std::move(**current);
    if (!is_run_state(state)) {
        return invalid("unknown run state '" + std::string(state) + "'");
    }
    if (is_final_run_state(run.state) && run.state != state) {
        return invalid("run " + run.id + " is " + run.state + " already and cannot become " +
                       std::string(state));
    }
    run.state = state;
    run.error = error;
    if (finished_at) {
        run.finished_at = finished_at;
    }
    if (auto r = write_run(run); !r) {
        return r;
    }
    return scope->commit();
}

result<std::optional<run_record>> store::get_run(std::string_view run_id) {
    auto st = db_.prepare(std::string("SELECT ") + run_columns + " FROM runs WHERE id = ?1");
    if (!st) {
        return st.error();
    }
    st->bind(1, run_id);
    return query_one(*st, read_run);
}

result<std::vector<run_record>> store::list_runs(bool only_unfinished) {
    auto st =
        db_.prepare(std::string("SELECT ") + run_columns + " FROM runs" +
                    (only_unfinished ? " WHERE state NOT IN ('succeeded', 'failed', 'cancelled')" : "") +
                    " ORDER BY seq");
    if (!st) {
        return st.error();
    }
    return query_all(*st, read_run);
}

namespace {

// The rows of `table` (jobs or files) in the order of their runs (runs.seq), then first stored
// first, so they can be read in step with the runs. The derived table keeps the unqualified
// column names unambiguous (runs has a state and a batch_id too).
std::string rows_in_run_order(const char* columns, const char* table) {
    return std::string("SELECT ") + columns + " FROM (SELECT " + table + ".*, runs.seq AS run_seq, " + table +
           ".rowid AS row_no FROM " + table + " JOIN runs ON runs.id = " + table +
           ".run_id) ORDER BY run_seq, row_no";
}

// Appends to `out` the rows of `st` that belong to `run_id`, starting with the row `st` is on
// (`has_row`), and leaves `st` on the first row of a later run.
template <class Row, class Read>
result<void> take_rows_of_run(
    statement& st, bool& has_row, const std::string& run_id, std::vector<Row>& out, Read read) {
    while (has_row) {
        auto row = read(st);
        if (row.run_id != run_id) {
            return {};  // ordered by run: this row is a later run's (see rows_in_run_order)
        }
        out.push_back(std::move(row));
        auto next = st.step();
        if (!next) {
            return next.error();
        }
        has_row = *next;
    }
    return {};
}

}  // namespace

result<void> store::for_each_run_with_details(const std::function<result<void>(run_with_details&&)>& visit) {
    auto txn = transaction::begin_read(db_);
    if (!txn) {
        return txn.error();
    }
    auto runs = db_.prepare(std::string("SELECT ") + run_columns + " FROM runs ORDER BY seq");
    if (!runs) {
        return runs.error();
    }
    auto jobs = db_.prepare(rows_in_run_order(job_columns, "jobs"));
    if (!jobs) {
        return jobs.error();
    }
    auto files = db_.prepare(rows_in_run_order(file_columns, "files"));
    if (!files) {
        return files.error();
    }
    auto job_row = jobs->step();
    if (!job_row) {
        return job_row.error();
    }
    auto file_row = files->step();
    if (!file_row) {
        return file_row.error();
    }
    bool has_job = *job_row;
    bool has_file = *file_row;
    for (;;) {
        auto row = runs->step();
        if (!row) {
            return row.error();
        }
        if (!*row) {
            return {};
        }
        run_with_details d;
        d.run = read_run(*runs);
        if (auto r = take_rows_of_run(*jobs, has_job, d.run.id, d.jobs, read_job); !r) {
            return r;
        }
        if (auto r = take_rows_of_run(*files, has_file, d.run.id, d.files, read_file_row); !r) {
            return r;
        }
        if (auto r = visit(std::move(d)); !r) {
            return r;
        }
    }
}

result<std::vector<run_record>> store::list_runs_of_policy(std::string_view policy) {
    auto st = db_.prepare(std::string("SELECT ") + run_columns + " FROM runs WHERE policy = ?1 ORDER BY seq");
    if (!st) {
        return st.error();
    }
    st->bind(1, policy);
    return query_all(*st, read_run);
}

result<std::optional<run_record>> store::last_run_for_policy(std::string_view policy,
                                                             std::string_view states_sql) {
    auto st =
        db_.prepare(std::string("SELECT ") + run_columns + " FROM runs WHERE policy = ?1 AND state IN " +
                    std::string(states_sql) + " ORDER BY finished_at DESC, seq DESC LIMIT 1");
    if (!st) {
        return st.error();
    }
    st->bind(1, policy);
    return query_one(*st, read_run);
}

result<std::optional<run_record>> store::last_finished_run_for_policy(std::string_view policy) {
    return last_run_for_policy(policy, "('succeeded', 'failed', 'cancelled')");
}

result<std::optional<run_record>> store::last_succeeded_run_for_policy(std::string_view policy) {
    return last_run_for_policy(policy, "('succeeded')");
}

result<std::optional<run_record>> store::last_succeeded_drill_for_policy(std::string_view policy) {
    return last_run_for_policy(policy, "('succeeded') AND run_trigger IN ('schedule', 'manual')");
}

result<std::int64_t> store::count_runs() {
    return db_.query_int("SELECT count(*) FROM runs");
}

result<void> store::set_run_policy(std::string_view run_id, std::string_view policy_json) {
    auto st = db_.prepare("UPDATE runs SET policy_json = ?2 WHERE id = ?1");
    if (!st) {
        return st.error();
    }
    st->bind(1, run_id).bind(2, policy_json);
    if (auto r = st->run(); !r) {
        return r;
    }
    if (db_.changes() == 0) {
        return missing("no run " + std::string(run_id));
    }
    return {};
}

result<std::optional<std::string>> store::get_run_policy(std::string_view run_id) {
    auto st = db_.prepare("SELECT policy_json FROM runs WHERE id = ?1");
    if (!st) {
        return st.error();
    }
    st->bind(1, run_id);
    return query_one(*st, [](const statement& s) { return s.column_text(0); });
}

// --- intents

result<void> store::record_intent(std::string_view run_id,
                                  int submission_no,
                                  std::string_view request_body_json,
                                  std::int64_t created_at_millis) {
    // The create call's body has no URL and no credential; one that seems to is a bug upstream.
    if (request_body_json.find("://") != std::string_view::npos ||
        contains_ignoring_case(request_body_json, "authValue")) {
        return invalid("refusing to store a request body that looks like it holds a URL or a credential");
    }
    auto st = db_.prepare(
        "INSERT INTO intents (run_id, submission_no, request_body_json, created_at) VALUES (?1, ?2, ?3, ?4)");
    if (!st) {
        return st.error();
    }
    st->bind(1, run_id).bind(2, submission_no).bind(3, request_body_json).bind(4, created_at_millis);
    if (auto r = st->run(); !r) {
        if (db_.last_error_code() == SQLITE_CONSTRAINT_PRIMARYKEY) {
            return invalid("run " + std::string(run_id) + " has an intent for submission " +
                           std::to_string(submission_no) + " already");
        }
        if (db_.last_error_code() == SQLITE_CONSTRAINT_FOREIGNKEY) {
            return missing("no run " + std::string(run_id));
        }
        return r;
    }
    return {};
}

result<std::optional<intent_record>> store::get_intent(std::string_view run_id, int submission_no) {
    auto st = db_.prepare(
        "SELECT run_id, submission_no, request_body_json, created_at, resolved, job_ids_json FROM intents "
        "WHERE run_id = ?1 AND submission_no = ?2");
    if (!st) {
        return st.error();
    }
    st->bind(1, run_id).bind(2, submission_no);
    auto row = st->step();
    if (!row) {
        return row.error();
    }
    if (!*row) {
        return std::optional<intent_record>();
    }
    auto intent = read_intent(db_, *st);
    if (!intent) {
        return intent.error();
    }
    return std::optional<intent_record>(std::move(*intent));
}

result<std::vector<intent_record>> store::list_intents(std::string_view run_id) {
    auto st = db_.prepare(
        "SELECT run_id, submission_no, request_body_json, created_at, resolved, job_ids_json FROM intents "
        "WHERE run_id = ?1 ORDER BY submission_no");
    if (!st) {
        return st.error();
    }
    st->bind(1, run_id);
    std::vector<intent_record> intents;
    for (;;) {
        auto row = st->step();
        if (!row) {
            return row.error();
        }
        if (!*row) {
            return intents;
        }
        auto intent = read_intent(db_, *st);
        if (!intent) {
            return intent.error();
        }
        intents.push_back(std::move(*intent));
    }
}

result<void> store::mark_intent_resolved(std::string_view run_id,
                                         int submission_no,
                                         const std::vector<std::string>& job_ids) {
    boost::json::array ids;
    for (const auto& id : job_ids) {
        ids.emplace_back(id);
    }
    auto st = db_.prepare(
        "UPDATE intents SET resolved = 1, job_ids_json = ?3 WHERE run_id = ?1 AND submission_no = ?2");
    if (!st) {
        return st.error();
    }
    st->bind(1, run_id).bind(2, submission_no).bind(3, boost::json::serialize(ids));
    if (auto r = st->run(); !r) {
        return r;
    }
    if (db_.changes() == 0) {
        return missing("run " + std::string(run_id) + " has no intent for submission " +
                       std::to_string(submission_no));
    }
    return {};
}

// --- jobs

result<void> store::upsert_job(const job_record& job) {
    auto st =
        db_.prepare(std::string("INSERT INTO jobs (") + job_columns +
                    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
                    "ON CONFLICT (run_id, job_id) DO UPDATE SET submission_no = excluded.submission_no, "
                    "batch_id = excluded.batch_id, status_name = excluded.status_name, "
                    "delivery_status = excluded.delivery_status, delivery_method = excluded.delivery_method, "
                    "expires = excluded.expires, max_downloads = excluded.max_downloads, "
                    "file_name = excluded.file_name, created = excluded.created");
    if (!st) {
        return st.error();
    }
    st->bind(1, job.run_id)
        .bind(2, job.job_id)
        .bind(3, job.submission_no)
        .bind(4, job.batch_id)
        .bind(5, job.status_name)
        .bind(6, job.delivery_status)
        .bind(7, job.delivery_method)
        .bind(8, job.expires)
        .bind(9, job.max_downloads)
        .bind(10, job.file_name)
        .bind(11, job.created);
    if (auto r = st->run(); !r) {
        if (db_.last_error_code() == SQLITE_CONSTRAINT_FOREIGNKEY) {
            return missing("no run " + job.run_id);
        }
        return r;
    }
    return {};
}

result<std::optional<job_record>> store::get_job(std::string_view run_id, std::string_view job_id) {
    auto st =
        db_.prepare(std::string("SELECT ") + job_columns + " FROM jobs WHERE run_id = ?1 AND job_id = ?2");
    if (!st) {
        return st.error();
    }
    st->bind(1, run_id).bind(2, job_id);
    return query_one(*st, read_job);
}

result<std::vector<job_record>> store::list_jobs(std::string_view run_id) {
    auto st =
        db_.prepare(std::string("SELECT ") + job_columns + " FROM jobs WHERE run_id = ?1 ORDER BY rowid");
    if (!st) {
        return st.error();
    }
    st->bind(1, run_id);
    return query_all(*st, read_job);
}

result<std::optional<std::string>> store::find_job_owner(std::string_view job_id) {
    auto st = db_.prepare("SELECT run_id FROM jobs WHERE job_id = ?1 ORDER BY rowid LIMIT 1");
    if (!st) {
        return st.error();
    }
    st->bind(1, job_id);
    return query_one(*st, [](const statement& s) { return s.column_text(0); });
}

// --- files

result<void> store::upsert_file(const file_record& file) {
    if (!is_file_state(file.state)) {
        return invalid("unknown file state '" + file.state + "'");
    }
    auto st = db_.prepare(
        "INSERT INTO files (run_id, job_id, file_name, bytes_expected, bytes_done, sha1_expected, "
        "sha1_actual, "
        "verified, etag, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
        "ON CONFLICT (run_id, job_id) DO UPDATE SET file_name = excluded.file_name, "
        "bytes_expected = excluded.bytes_expected, bytes_done = excluded.bytes_done, "
        "sha1_expected = excluded.sha1_expected, sha1_actual = excluded.sha1_actual, "
        "verified = excluded.verified, etag = excluded.etag, state = excluded.state");
    if (!st) {
        return st.error();
    }
    st->bind(1, file.run_id)
        .bind(2, file.job_id)
        .bind(3, file.file_name)
        .bind(4, file.bytes_expected)
        .bind(5, file.bytes_done)
        .bind(6, file.sha1_expected)
        .bind(7, file.sha1_actual)
        .bind(8, file.verified)
        .bind(9, file.etag)
        .bind(10, file.state);
    if (auto r = st->run(); !r) {
        if (db_.last_error_code() == SQLITE_CONSTRAINT_FOREIGNKEY) {
            return missing("run " + file.run_id + " has no job " + file.job_id);
        }
        return r;
    }
    return {};
}

result<int> store::count_download_attempt(std::string_view run_id, std::string_view job_id) {
    auto scope = write_scope::begin(db_);
    if (!scope) {
        return scope.error();
    }
    auto job = get_job(run_id, job_id);
    if (!job) {
        return job.error();
    }
    if (!*job) {
        return missing("run " + std::string(run_id) + " has no job " + std::string(job_id));
    }
    int attempts = 0;
    {
        auto st = db_.prepare(
            "INSERT INTO files (run_id, job_id, attempts) VALUES (?1, ?2, 1) "
            "ON CONFLICT (run_id, job_id) DO UPDATE SET attempts = attempts + 1 RETURNING attempts");
        if (!st) {
            return st.error();
        }
        st->bind(1, run_id).bind(2, job_id);
        auto row = st->step();
        if (!row) {
            return row.error();
        }
        attempts = static_cast<int>(st->column_int64(0));
        // Run the statement to its end: COMMIT refuses while it is still active.
        if (auto r = st->run(); !r) {
            return r.error();
        }
    }
    if (auto r = scope->commit(); !r) {
        return r.error();
    }
    return attempts;
}

result<void> store::update_progress(std::string_view run_id,
                                    std::string_view job_id,
                                    std::int64_t bytes_done,
                                    std::optional<std::string> etag) {
    auto st = db_.prepare(
        "UPDATE files SET bytes_done = ?3, etag = COALESCE(?4, etag) WHERE run_id = ?1 AND job_id = ?2");
    if (!st) {
        return st.error();
    }
    st->bind(1, run_id).bind(2, job_id).bind(3, bytes_done).bind(4, etag);
    if (auto r = st->run(); !r) {
        return r;
    }
    if (db_.changes() == 0) {
        return missing("run " + std::string(run_id) + " has no file for job " + std::string(job_id));
    }
    return {};
}

result<void> store::set_file_state(std::string_view run_id, std::string_view job_id, std::string_view state) {
    if (!is_file_state(state)) {
        return invalid("unknown file state '" + std::string(state) + "'");
    }
    auto st = db_.prepare("UPDATE files SET state = ?3 WHERE run_id = ?1 AND job_id = ?2");
    if (!st) {
        return st.error();
    }
    st->bind(1, run_id).bind(2, job_id).bind(3, state);
    if (auto r = st->run(); !r) {
        return r;
    }
    if (db_.changes() == 0) {
        return missing("run " + std::string(run_id) + " has no file for job " + std::string(job_id));
    }
    return {};
}

result<void> store::mark_verified(std::string_view run_id,
                                  std::string_view job_id,
                                  std::string_view sha1_actual,
                                  std::int64_t bytes_done) {
    if (!is_lower_sha1(sha1_actual)) {
        return invalid("a SHA1 is 40 lower-case hex digits");
    }
    auto st = db_.prepare(
        "UPDATE files SET verified = 1, state = 'verified', sha1_actual = ?3, bytes_done = ?4 "
        "WHERE run_id = ?1 AND job_id = ?2");
    if (!st) {
        return st.error();
    }
    st->bind(1, run_id).bind(2, job_id).bind(3, sha1_actual).bind(4, bytes_done);
    if (auto r = st->run(); !r) {
        return r;
    }
    if (db_.changes() == 0) {
        return missing("run " + std::string(run_id) + " has no file for job " + std::string(job_id));
    }
    return {};
}

result<std::optional<file_record>> store::get_file(std::string_view run_id, std::string_view job_id) {
    auto st =
        db_.prepare(std::string("SELECT ") + file_columns + " FROM files WHERE run_id = ?1 AND job_id = ?2");
    if (!st) {
        return st.error();
    }
    st->bind(1, run_id).bind(2, job_id);
    return query_one(*st, read_file_row);
}

result<std::vector<file_record>> store::list_files(std::string_view run_id) {
    auto st =
        db_.prepare(std::string("SELECT ") + file_columns + " FROM files WHERE run_id = ?1 ORDER BY rowid");
    if (!st) {
        return st.error();
    }
    st->bind(1, run_id);
    return query_all(*st, read_file_row);
}

// --- triggers

result<bool> store::is_trigger_consumed(std::string_view policy, std::string_view value) {
    auto st = db_.prepare("SELECT 1 FROM consumed_triggers WHERE policy = ?1 AND trigger_value = ?2");
    if (!st) {
        return st.error();
    }
    st->bind(1, policy).bind(2, value);
    return st->step();
}

result<bool> store::consume_trigger_unlocked(std::string_view policy,
                                             std::string_view value,
                                             std::string_view run_id) {
    auto st = db_.prepare(
        "INSERT INTO consumed_triggers (policy, trigger_value, run_id) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (policy, trigger_value) DO NOTHING");
    if (!st) {
        return st.error();
    }
    st->bind(1, policy).bind(2, value).bind(3, run_id);
    if (auto r = st->run(); !r) {
        if (db_.last_error_code() == SQLITE_CONSTRAINT_FOREIGNKEY) {
            return missing("no run " + std::string(run_id));
        }
        return r.error();
    }
    return db_.changes() == 1;
}

result<bool> store::consume_trigger(std::string_view policy,
                                    std::string_view value,
                                    std::string_view run_id) {
    return consume_trigger_unlocked(policy, value, run_id);
}

// --- schedule

result<std::optional<std::int64_t>> store::last_fire(std::string_view policy) {
    auto st = db_.prepare("SELECT last_fire FROM schedule_fires WHERE policy = ?1");
    if (!st) {
        return st.error();
    }
    st->bind(1, policy);
    return query_one(*st, [](const statement& s) { return s.column_int64(0); });
}

result<void> store::set_last_fire(std::string_view policy, std::int64_t fire_millis) {
    auto st = db_.prepare(
        "INSERT INTO schedule_fires (policy, last_fire) VALUES (?1, ?2) "
        "ON CONFLICT (policy) DO UPDATE SET last_fire = excluded.last_fire");
    if (!st) {
        return st.error();
    }
    st->bind(1, policy).bind(2, fire_millis);
    return st->run();
}

// --- reloads

result<void> store::record_reload(bool ok, std::int64_t at_millis, std::string_view message) {
    constexpr int kept = 100;
    auto scope = write_scope::begin(db_);
    if (!scope) {
        return scope.error();
    }
    auto st = db_.prepare("INSERT INTO reloads (ok, at, message) VALUES (?1, ?2, ?3)");
    if (!st) {
        return st.error();
    }
    st->bind(1, ok).bind(2, at_millis).bind(3, strip_urls(message));
    if (auto r = st->run(); !r) {
        return r;
    }
    // Keep the newest successful one too, whatever the length of the failure streak.
    if (auto r = db_.exec("DELETE FROM reloads WHERE seq <= (SELECT max(seq) FROM reloads) - " +
                          std::to_string(kept) +
                          " AND seq <> COALESCE((SELECT max(seq) FROM reloads WHERE ok = 1), -1)");
        !r) {
        return r;
    }
    return scope->commit();
}

result<std::optional<reload_record>> store::last_reload() {
    auto st = db_.prepare("SELECT ok, at, message FROM reloads ORDER BY seq DESC LIMIT 1");
    if (!st) {
        return st.error();
    }
    return query_one(*st, [](const statement& s) {
        return reload_record{s.column_int64(0) != 0, s.column_int64(1), s.column_text(2)};
    });
}

result<std::optional<reload_record>> store::last_successful_reload() {
    auto st = db_.prepare("SELECT ok, at, message FROM reloads WHERE ok = 1 ORDER BY seq DESC LIMIT 1");
    if (!st) {
        return st.error();
    }
    return query_one(*st, [](const statement& s) {
        return reload_record{s.column_int64(0) != 0, s.column_int64(1), s.column_text(2)};
    });
}

result<void> store::save_configuration_in_force(const configuration_record& c) {
    auto scope = write_scope::begin(db_);
    if (!scope) {
        return scope.error();
    }
    if (auto r = db_.exec("DELETE FROM configuration_in_force"); !r) {
        return r;
    }
    auto st = db_.prepare("INSERT INTO configuration_in_force (kind, name, text) VALUES (?1, ?2, ?3)");
    if (!st) {
        return st.error();
    }
    const auto insert =
        [&](const char* kind, const std::string& name, const std::string& text) -> result<void> {
        st->reset();
        st->bind(1, kind).bind(2, name).bind(3, text);
        return st->run();
    };
    if (auto r = insert("digest", "", c.digest); !r) {
        return r;
    }
    for (const auto& [name, text] : c.sections) {
        if (auto r = insert("section", name, text); !r) {
            return r;
        }
    }
    for (const auto& [name, text] : c.policies) {
        if (auto r = insert("policy", name, text); !r) {
            return r;
        }
    }
    return scope->commit();
}

result<std::optional<configuration_record>> store::configuration_in_force() {
    auto st = db_.prepare("SELECT kind, name, text FROM configuration_in_force");
    if (!st) {
        return st.error();
    }
    configuration_record c;
    bool any = false;
    for (;;) {
        auto row = st->step();
        if (!row) {
            return row.error();
        }
        if (!*row) {
            break;
        }
        any = true;
        const auto kind = st->column_text(0);
        if (kind == "digest") {
            c.digest = st->column_text(2);
        } else if (kind == "section") {
            c.sections[st->column_text(1)] = st->column_text(2);
        } else {
            c.policies[st->column_text(1)] = st->column_text(2);
        }
    }
    if (!any) {
        return std::optional<configuration_record>{};
    }
    return std::optional<configuration_record>{std::move(c)};
}

// --- state_dir_lock

result<state_dir_lock> state_dir_lock::acquire(const std::filesystem::path& state_dir) {
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);
    if (ec) {
        return make_error(errc::io_failed,
                          "cannot create state directory " + state_dir.string() + ": " + ec.message());
    }
    const auto path = state_dir / file_name;
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return make_error(
            errc::io_failed,
            "cannot open lock file " + path.string() + ": " + std::generic_category().message(errno));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int e = errno;
        ::close(fd);
        if (e == EWOULDBLOCK) {
            return make_error(errc::io_failed,
                              "state directory " + state_dir.string() +
                                  " is in use by another atlas-restored (it holds " + path.string() + ")");
        }
        return make_error(errc::io_failed,
                          "cannot lock " + path.string() + ": " + std::generic_category().message(e));
    }
    return state_dir_lock(fd);
}

state_dir_lock::state_dir_lock(state_dir_lock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

state_dir_lock& state_dir_lock::operator=(state_dir_lock&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

state_dir_lock::~state_dir_lock() {
    if (fd_ >= 0) {
        ::close(fd_);  // releases the lock
    }
}

}  // namespace atlas_restored::state
