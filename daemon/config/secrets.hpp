#pragma once
// Reading the secrets a configuration names (SPEC §4 "Credentials"): files, systemd credentials
// (relative names under $CREDENTIALS_DIRECTORY) and environment variables. The environment is a
// value so tests control it. Nothing here logs; errors name the path or variable, never content.

#include "config/config.hpp"
#include "config/loader.hpp"
#include "util/error.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace atlas_restored::config {

// The process environment as the loader sees it.
struct environment {
    std::map<std::string, std::string> variables;

    std::optional<std::string> get(const std::string& name) const;
    static environment from_process();  // a copy of ::environ
};

// The file a file/credential reference points to: the path itself, or
// $CREDENTIALS_DIRECTORY/<name>. errc::invalid_input if a credential is named but
// $CREDENTIALS_DIRECTORY is not set; errc::invalid_input for an env reference.
result<std::filesystem::path> secret_path(const secret_ref& ref, const environment& env);

// The secret's value: a file's content without one trailing newline ("\n" or "\r\n"), or the
// variable's value. Errors (errc::io_failed, errc::not_found, errc::invalid_input) name the path or
// variable only. An empty secret is an error; files larger than 64 KiB are refused.
result<std::string> read_secret(const secret_ref& ref, const environment& env);

// Every secret the configuration names (atlas:, profiles, notify), each read once: one problem per
// reference that cannot be read, at the line that names it. Used by `check`.
std::vector<config_problem> check_credentials(const configuration& c, const environment& env);

// Every secret reference of the configuration, in file order (atlas, profiles, notify).
std::vector<const secret_ref*> secret_refs(const configuration& c);

}  // namespace atlas_restored::config
