#pragma once
// The daemon's subcommands (SPEC §3): `run` (the daemon itself), `status` and `run-now`. Each is
// registered on the CLI11 app like daemon/cli/submit.* and returns its exit code.

#include <iosfwd>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace atlas_restored::app {

inline constexpr const char* default_config_file = "/etc/atlas-restored/atlas-restored.yaml";

struct run_command_options {
    std::string config_file = default_config_file;
    std::string log_format = "text";
};
CLI::App* add_run_command(CLI::App& app, run_command_options& options);
int run_run(const run_command_options& options, std::ostream& err);

struct status_options {
    std::string config_file = default_config_file;
    bool json = false;
    // Where the database is when the configuration cannot be loaded (or to look at another one).
    std::optional<std::string> state_dir;
    bool watch = false;  // until interrupted: redraw on a terminal, print changes when piped
    double interval_seconds = 2.0;
};
CLI::App* add_status_command(CLI::App& app, status_options& options);
// 0 when the database was read (even if the configuration could not be loaded: then runs are
// shown without policies and stderr says why); 1 when the database cannot be read.
int run_status(const status_options& options, std::ostream& out, std::ostream& err);

struct run_now_options {
    std::string config_file = default_config_file;
    std::string policy;
    std::optional<std::string> state_dir;
    bool dry_run = false;  // no daemon needed: pre-flight and print the request (app/dry_run.hpp)
};
CLI::App* add_run_now_command(CLI::App& app, run_now_options& options);
// Prints the new run's id on `out`; 1 if the daemon is not running or refuses (unknown policy).
int run_run_now(const run_now_options& options, std::ostream& out, std::ostream& err);

}  // namespace atlas_restored::app
