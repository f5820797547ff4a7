#pragma once
// `atlas-restored run`: the daemon. It loads the configuration, takes the state directory's lock,
// opens the database, and then decides WHEN runs start — cron timers (with jitter and the
// missed-fire rule), trigger values (at start-up and after each successful reload) and `run-now`
// requests on the control socket — while the run engine (runs/engine.hpp) carries every run to its
// end. SIGHUP reloads, SIGTERM/SIGINT stop within the shutdown budget; systemd is told about each
// step (READY, RELOADING, STOPPING, STATUS, WATCHDOG).

#include <chrono>
#include <filesystem>
#include <iosfwd>
#include <string>

namespace atlas_restored::app {

// SIGTERM → exit within 10 s (SPEC §4): runs get this long to persist and stop, then the loop is
// stopped anyway (every run is durable and resumes at the next start).
inline constexpr std::chrono::seconds shutdown_budget{8};
// Within that, after the runs have stopped: how long webhook notifications still queued or being
// retried get to go out (a run that failed just before a stop is still announced).
inline constexpr std::chrono::seconds notification_drain_budget{3};
// How often the STATUS= line is refreshed.
inline constexpr std::chrono::seconds status_refresh_interval{5};

struct run_options {
    std::filesystem::path config_file = "/etc/atlas-restored/atlas-restored.yaml";
    std::string log_format = "text";  // "text" | "json" (util/logging.hpp)
};

// Runs the daemon in the foreground until SIGTERM/SIGINT. Returns the exit code: 0 after a clean
// stop, 1 when it cannot start (every configuration problem, a refused database, a second daemon
// on the same state directory, an unreadable credential), printed on `err`.
int run_daemon(const run_options& options, std::ostream& err);

}  // namespace atlas_restored::app
