#pragma once
// Logging set-up for the daemon and its commands: one event a line on stderr, in one of three
// styles, with a last-line-of-defence redaction of secrets.
//
//   text, not under journald   2026-05-03T03:00:01.250Z info runs: policy=orders run_id=r-7: submitted
//   text, under journald       <6>runs: policy=orders run_id=r-7: submitted
//   json {"ts":"…","level":"info","logger":"runs","msg":"submitted","policy":"orders","run_id":"r-7"}
//                              (under journald prefixed with <N> too, which the journal strips)
//
// "Under journald" means $JOURNAL_STREAM is set and, when it is a well-formed "DEV:INODE", names
// stderr (systemd.exec(5): a child that inherited the variable but writes elsewhere is not under
// journald). The <N> prefix is the syslog priority the journal reads (sd-daemon(3)): 3 error,
// 4 warning, 6 info, 7 debug (2 critical).
//
// Every logger writes through one shared sink, so configure_logging() may run after modules made
// their loggers: registered loggers are switched over. Call it first thing in main anyway.

#include "util/error.hpp"

#include <spdlog/common.h>
#include <spdlog/logger.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace atlas_restored {

enum class log_format { text, json };

struct log_options {
    std::string level = "info";  // config log_level: trace debug info warn error critical off
    log_format format = log_format::text;
    bool honour_env = true;       // $SPDLOG_LEVEL overrides `level` ("debug", or "info,http=trace")
    std::optional<bool> journal;  // unset: detect from $JOURNAL_STREAM
    int fd = 2;                   // where lines go; not closed (tests pass a file's descriptor)
};

// Installs the shared sink, the default logger and the levels. Fails on an unknown level name
// (in `level`; a bad $SPDLOG_LEVEL entry is ignored with a warning, the daemon still starts).
result<void> configure_logging(const log_options& options);

// On reload: the new config log_level (SPDLOG_LEVEL still wins). Fails on an unknown name.
result<void> set_log_level(std::string_view level);

std::optional<log_format> parse_log_format(std::string_view text);                // "text" | "json"
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view text);  // also "warning"

// The module's named logger ("http", "atlas", "runs", "app", …), registered so configure_logging()
// and set_log_level() reach it. Cheap after the first call; keep the pointer.
std::shared_ptr<spdlog::logger> module_logger(const std::string& name);

// A logger (named "runs") whose every line carries the run's policy and run id: as
// "policy=P run_id=R: " in text, as "policy"/"run_id" fields in JSON. Not registered (runs come and
// go); it follows the current sink and level. Make one per run and keep it for the run's life.
std::shared_ptr<spdlog::logger> run_logger(std::string_view policy, std::string_view run_id);

// ---- The pure parts, exposed for tests ----

struct log_context {
    std::string policy;
    std::string run_id;
};

struct log_style {
    log_format format = log_format::text;
    bool journal = false;
};

// One line, '\n'-terminated. Line breaks inside msg never split the event (escaped as \n).
std::string format_log_line(const log_style& style,
                            spdlog::level::level_enum level,
                            std::string_view logger,
                            std::string_view msg,
                            std::chrono::system_clock::time_point at,
                            const log_context* context = nullptr);

// Scrubs what must never reach a log even when a caller slipped: URL query strings and userinfo,
// authValue / access_token / client_secret / private_key / password values, and Authorization
// (Bearer, Basic, Digest) credentials. The rest of the text is left alone.
std::string redact_log_text(std::string_view text);

// The syslog priority the journal reads for a level.
int journal_priority(spdlog::level::level_enum level);

// Whether $JOURNAL_STREAM (passed in: testable) names the stream open on fd.
bool is_journal_stream(const char* journal_stream_env, int fd);

}  // namespace atlas_restored
