// atlas-restored: argv -> the command's options -> the command. `submit` and `check` live in
// daemon/cli/; the daemon (`run`) and its companions (`status`, `run-now`) in daemon/app/.

#include "app/commands.hpp"
#include "cli/check.hpp"
#include "cli/exit_codes.hpp"
#include "cli/submit.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

int main(int argc, char** argv) {
    using namespace atlas_restored;
    // stdout carries the commands' answers (JSON); every log line goes to stderr.
    spdlog::set_default_logger(spdlog::stderr_color_mt("atlas-restored"));
    CLI::App app{"atlas-restored: MongoDB Atlas legacy-backup restores, drills and on-call restores"};
    app.set_version_flag("--version", std::string("atlas-restored ") + ATLAS_RESTORED_VERSION);
    app.require_subcommand(1);

    cli::submit_options submit;
    auto* submit_cmd = cli::add_submit_command(app, submit);
    cli::check_options check;
    auto* check_cmd = cli::add_check_command(app, check);
    app::run_command_options run;
    auto* run_cmd = app::add_run_command(app, run);
    app::status_options status;
    auto* status_cmd = app::add_status_command(app, status);
    app::run_now_options run_now;
    auto* run_now_cmd = app::add_run_now_command(app, run_now);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        // CLI11 answers --help/--version with 0; any other parse error is invalid input.
        return code == 0 ? cli::exit_ok : cli::exit_invalid_input;
    }
    if (submit_cmd->parsed()) {
        return cli::run_submit(submit, std::cout, std::cerr);
    }
    if (check_cmd->parsed()) {
        return cli::run_check(check, std::cout, std::cerr);
    }
    if (run_cmd->parsed()) {
        return app::run_run(run, std::cerr);
    }
    if (status_cmd->parsed()) {
        return app::run_status(status, std::cout, std::cerr);
    }
    if (run_now_cmd->parsed()) {
        return app::run_run_now(run_now, std::cout, std::cerr);
    }
    return cli::exit_invalid_input;
}
