#include "cli/check.hpp"

#include "cli/exit_codes.hpp"
#include "config/describe.hpp"
#include "config/loader.hpp"
#include "config/secrets.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace atlas_restored::cli {

CLI::App* add_check_command(CLI::App& app, check_options& o) {
    auto* cmd = app.add_subcommand("check", "Validate the configuration and print the effective policies");
    cmd->add_option("--config", o.config_file, "Configuration file");
    return cmd;
}

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
    err << options.config_file << ": configuration is valid (digest " << config::config_digest(*loaded)
        << ")\n";
    return exit_ok;
}

}  // namespace atlas_restored::cli
