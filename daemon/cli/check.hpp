#pragma once
// `atlas-restored check`, like `nginx -t`: validate the configuration and every credential it
// names, print the effective policies and their next fire times; exit 0 valid, 1 invalid.

#include <iosfwd>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace atlas_restored::cli {

struct check_options {
    std::string config_file = "/etc/atlas-restored/atlas-restored.yaml";
    std::optional<std::string> against_state;  // a state_dir: show what a reload would change
};

CLI::App* add_check_command(CLI::App& app, check_options& options);
int run_check(const check_options& options, std::ostream& out, std::ostream& err);

}  // namespace atlas_restored::cli
