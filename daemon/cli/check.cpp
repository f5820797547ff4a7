#include "cli/check.hpp"

#include "cli/exit_codes.hpp"
#include "config/describe.hpp"
#include "config/loader.hpp"
#include "config/secrets.hpp"
#include "state/store.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace atlas_restored::cli {

CLI::App* add_check_command(CLI::App& app, check_options& o) {
    auto* cmd = app.add_subcommand("check", "Validate the configuration and print the effective policies");
    cmd->add_option("--config", o.config_file, "Configuration file");
    cmd->add_option("--against-state",
                    o.against_state,
                    "Also show what a reload of the running daemon would change: compare with the "
                    "configuration in force recorded in STATE_DIR (default: the configuration's state_dir)")
        ->expected(0, 1)
        ->default_str("");
    return cmd;
}

namespace {

// What the daemon with this state directory runs with, and which triggers it consumed: the "old"
// side of the reload preview. A missing database is a first start (nothing in force).
result<std::string> preview_reload(const config::configuration& next,
                                   const std::filesystem::path& state_dir) {
    auto store = state::store::open_read_only(state_dir);
    if (!store && store.error().code != errc::not_found) {
        return store.error();
    }
    std::optional<config::config_snapshot> in_force;
    std::string heading;
    if (!store) {
        heading = "no state database in " + state_dir.string() + ": a first start would make these changes";
    } else {
        auto record = store->configuration_in_force();
        if (!record) {
            return record.error();
        }
        if (*record) {
            in_force = config::config_snapshot{(*record)->sections, (*record)->policies};
            heading = "against the configuration in force in " + state_dir.string() + " (digest " +
                      (*record)->digest.substr(0, 12) + "), a reload would make these changes";
        } else {
            heading = state_dir.string() +
                      " records no configuration in force (no daemon of this version has started with it): "
                      "comparing with an empty one";
        }
    }
    std::optional<error> lookup_failed;
    auto consumed = [&](const std::string& policy, const std::string& trigger) {
        if (!store) {
            return false;
        }
        auto r = store->is_trigger_consumed(policy, trigger);
        if (!r) {
            lookup_failed = r.error();
            return false;
        }
        return *r;
    };
    const auto diff = config::diff_configurations(in_force, next, consumed);
    if (lookup_failed) {
        return *lookup_failed;
    }
    std::string text = "reload preview: " + heading + "\n";
    std::string lines = config::format_diff(diff);
    for (std::size_t at = 0; at < lines.size();) {
        const auto end = lines.find('\n', at);
        text += "  " + lines.substr(at, end - at) + "\n";
        at = end == std::string::npos ? lines.size() : end + 1;
    }
    return text;
}

}  // namespace

int run_check(const check_options& options, std::ostream& out, std::ostream& err) {
    const auto now = std::chrono::system_clock::now();
    auto loaded = config::load_configuration(options.config_file, now);
    if (!loaded) {
        for (const auto& p : loaded.error()) {
            err << config::format_problem(p) << "\n";
        }
        err << options.config_file << ": configuration is invalid (" << loaded.error().size() << " problem"
            << (loaded.error().size() == 1 ? "" : "s") << ")\n";
        return exit_failure;
    }
    const auto credential_problems = config::check_credentials(*loaded, config::environment::from_process());
    for (const auto& p : credential_problems) {
        err << config::format_problem(p) << "\n";
    }
    out << config::describe_policies(*loaded, now);
    if (!credential_problems.empty()) {
        err << options.config_file << ": configuration is invalid (" << credential_problems.size()
            << " unreadable credential" << (credential_problems.size() == 1 ? "" : "s") << ")\n";
        return exit_failure;
    }
    if (options.against_state) {
        const auto state_dir = options.against_state->empty() ? loaded->state_dir
                                                              : std::filesystem::path(*options.against_state);
        auto preview = preview_reload(*loaded, state_dir);
        if (!preview) {
            err << "--against-state " << state_dir.string() << ": " << to_string(preview.error()) << "\n";
            return exit_failure;
        }
        out << *preview;
    }
    err << options.config_file << ": configuration is valid (digest " << config::config_digest(*loaded)
        << ")\n";
    return exit_ok;
}

}  // namespace atlas_restored::cli
