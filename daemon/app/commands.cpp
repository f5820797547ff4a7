#include "app/commands.hpp"

#include "app/control_socket.hpp"
#include "app/dry_run.hpp"
#include "app/notify.hpp"
#include "app/service.hpp"
#include "app/status.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "config/loader.hpp"
#include "util/time.hpp"

#include <CLI/CLI.hpp>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <ostream>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace atlas_restored::app {

CLI::App* add_run_command(CLI::App& app, run_command_options& o) {
    auto* cmd = app.add_subcommand("run", "Run the daemon in the foreground (systemd Type=notify)");
    cmd->add_option("--config", o.config_file, "Configuration file");
    cmd->add_option("--log-format", o.log_format, "Log lines as text or json")
        ->check(CLI::IsMember({"text", "json"}));
    return cmd;
}

int run_run(const run_command_options& options, std::ostream& err) {
    run_options o;
    o.config_file = options.config_file;
    o.log_format = options.log_format;
    return run_daemon(o, err);
}

namespace {

// The state directory a client command should look at, and the configuration when it loaded.
struct located_state {
    std::filesystem::path state_dir;
    std::optional<config::configuration> configuration;
};

// When the file does not load as a configuration (a mistake mid-edit), its state_dir: is usually
// still readable: look for it before falling back to the default.
std::optional<std::filesystem::path> best_effort_state_dir(const std::string& config_file) {
    try {
        const auto root = YAML::LoadFile(config_file);
        const auto node = root["state_dir"];
        if (node && node.IsScalar() && !node.Scalar().empty() && node.Scalar().front() == '/') {
            return std::filesystem::path(node.Scalar());
        }
    } catch (const std::exception&) {
        // Not even YAML: the default it is.
    }
    return std::nullopt;
}

located_state locate_state(const std::string& config_file,
                           const std::optional<std::string>& state_dir_override,
                           std::ostream& err) {
    located_state out;
    auto loaded = config::load_configuration(config_file);
    if (loaded) {
        out.configuration = std::move(*loaded);
        out.state_dir = out.configuration->state_dir;
    } else {
        const auto& problems = loaded.error();
        err << "warning: " << config_file << " could not be loaded (" << problems.size() << " problem"
            << (problems.size() == 1 ? "" : "s")
            << "; `atlas-restored check` lists them; first: " << config::format_problem(problems.front())
            << ")\n";
        out.state_dir = best_effort_state_dir(config_file).value_or(config::configuration{}.state_dir);
    }
    if (state_dir_override) {
        out.state_dir = *state_dir_override;
    }
    return out;
}

}  // namespace

CLI::App* add_status_command(CLI::App& app, status_options& o) {
    auto* cmd =
        app.add_subcommand("status", "Runs, jobs, deliveries, downloads and the last drill of each policy");
    cmd->add_option("--config", o.config_file, "Configuration file");
    cmd->add_flag("--json", o.json, "One JSON document {\"runs\": [...], \"policies\": [...]}");
    cmd->add_option("--state-dir", o.state_dir, "Read this state directory instead of the configuration's");
    cmd->add_flag(
        "--watch", o.watch, "Keep showing it: redrawn on a terminal, a new block on each change when piped");
    cmd->add_option("--interval", o.interval_seconds, "Seconds between two looks with --watch (default 2)")
        ->check(CLI::Range(0.1, 3600.0));
    return cmd;
}

namespace {

daemon_liveness ask_daemon(const std::filesystem::path& state_dir) {
    daemon_liveness daemon;
    control_request ping;
    ping.command = "ping";
    auto answer = send_control_request(state_dir / control_socket_name, ping, std::chrono::seconds(3));
    if (answer && answer->ok) {
        daemon.running = true;
        const auto& x = answer->extra;
        runs::engine_summary s;
        auto integer = [&x](const char* key) -> std::int64_t {
            const auto* v = x.if_contains(key);
            return v && v->is_int64()    ? v->as_int64()
                   : v && v->is_uint64() ? static_cast<std::int64_t>(v->as_uint64())
                                         : 0;
        };
        s.active_runs = static_cast<int>(integer("active_runs"));
        s.queued_runs = static_cast<int>(integer("queued_runs"));
        s.active_downloads = static_cast<int>(integer("active_downloads"));
        s.download_bytes_done = static_cast<std::uint64_t>(integer("download_bytes_done"));
        s.download_bytes_total = static_cast<std::uint64_t>(integer("download_bytes_total"));
        daemon.detail = "pid " + std::to_string(integer("pid")) + ": " + describe_summary(s);
    } else if (answer) {
        daemon.detail = answer->error;
    } else {
        daemon.detail =
            answer.error().code == errc::not_found ? "no control socket answers" : answer.error().message;
    }
    return daemon;
}

// The database, opened read-only once it exists, and what status writes from it.
struct status_source {
    std::filesystem::path state_dir;
    const config::configuration* configuration = nullptr;
    bool as_json = false;
    std::optional<state::store> store;

    // `missing` is set when there is no database yet: the status of no runs is written.
    result<void> write(std::chrono::system_clock::time_point now, std::ostream& out, bool& missing) {
        missing = false;
        const auto daemon = as_json ? std::nullopt : std::optional<daemon_liveness>(ask_daemon(state_dir));
        if (!store) {
            auto opened = state::store::open_read_only(state_dir);
            if (!opened) {
                if (opened.error().code != errc::not_found) {
                    return opened.error();
                }
                missing = true;
                if (as_json) {
                    out << cli::to_json_text(status_document({}, configuration, now), false) << "\n";
                } else {
                    out << status_text({}, configuration, daemon, now);
                }
                return {};
            }
            store.emplace(std::move(*opened));
        }
        return write_status(*store, configuration, daemon, as_json, now, out);
    }
};

}  // namespace

int run_status(const status_options& options, std::ostream& out, std::ostream& err) {
    auto located = locate_state(options.config_file, options.state_dir, err);
    if (!located.configuration) {
        err << "warning: showing the runs in " << located.state_dir.string() << " without policies\n";
    }
    status_source source{located.state_dir,
                         located.configuration ? &*located.configuration : nullptr,
                         options.json,
                         std::nullopt};
    bool missing = false;
    if (!options.watch) {
        // Straight to `out` as the runs are read: --json over 100,000 runs stays small in memory.
        if (auto written = source.write(std::chrono::system_clock::now(), out, missing); !written) {
            out << std::flush;
            err << to_string(written.error()) << " (the output above is incomplete)\n";
            return cli::exit_failure;
        }
        if (missing) {
            err << "no state database in " << located.state_dir.string()
                << " yet: atlas-restored has not started with this state directory\n";
        }
        return cli::exit_ok;
    }

    // --watch: on a terminal the screen is redrawn; piped, a block is printed whenever it changed.
    const bool terminal = ::isatty(STDOUT_FILENO) == 1;
    const auto interval =
        std::chrono::milliseconds(static_cast<std::int64_t>(options.interval_seconds * 1000));
    std::string last;
    for (;;) {
        const auto now = std::chrono::system_clock::now();
        std::ostringstream block;
        if (auto written = source.write(now, block, missing); !written) {
            err << to_string(written.error()) << "\n";
            return cli::exit_failure;
        }
        std::string text = std::move(block).str();
        if (terminal) {
            out << "\x1b[H\x1b[2J" << format_iso8601(now) << "  (every " << options.interval_seconds
                << " s, Ctrl-C to stop)\n"
                << text << std::flush;
        } else if (text != last) {
            if (!options.json) {
                out << "--- " << format_iso8601(now) << "\n";
            }
            out << text << std::flush;
        }
        last = std::move(text);
        std::this_thread::sleep_for(interval);
    }
}

CLI::App* add_run_now_command(CLI::App& app, run_now_options& o) {
    auto* cmd = app.add_subcommand("run-now", "Start one run of a policy now, through the running daemon");
    cmd->add_option("--config", o.config_file, "Configuration file (for state_dir)");
    cmd->add_option(
        "--state-dir", o.state_dir, "The running daemon's state directory, if not the configuration's");
    cmd->add_option("POLICY", o.policy, "The policy to run")->required();
    cmd->add_flag(
        "--dry-run",
        o.dry_run,
        "Validate, resolve latest_snapshot, run the pre-flight and print the request; send nothing");
    return cmd;
}

int run_run_now(const run_now_options& options, std::ostream& out, std::ostream& err) {
    if (options.dry_run) {
        auto loaded = config::load_configuration(options.config_file);
        if (!loaded) {
            for (const auto& p : loaded.error()) {
                err << config::format_problem(p) << "\n";
            }
            err << options.config_file << ": configuration is invalid\n";
            return cli::exit_failure;
        }
        return run_dry_run(*loaded, options.policy, out, err);
    }
    auto located = locate_state(options.config_file, options.state_dir, err);
    control_request request;
    request.command = "run-now";
    request.policy = options.policy;
    // Only meaningful from root; the daemon ignores it for anyone else.
    if (::getuid() == 0) {
        if (const char* sudo_user = std::getenv("SUDO_USER"); sudo_user != nullptr && *sudo_user != '\0') {
            request.sudo_user = std::string(sudo_user);
        }
    }
    auto answer = send_control_request(located.state_dir / control_socket_name, request);
    if (!answer) {
        err << "run-now " << options.policy << ": " << answer.error().message << "\n";
        return cli::exit_failure;
    }
    if (!answer->ok) {
        err << "run-now " << options.policy << ": " << answer->error << "\n";
        return cli::exit_failure;
    }
    out << answer->run_id << "\n";
    err << "policy " << options.policy << ": run " << answer->run_id
        << " started; follow it with `atlas-restored status`\n";
    return cli::exit_ok;
}

}  // namespace atlas_restored::app
