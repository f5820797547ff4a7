#pragma once
// Turns the configuration's atlas: (or a profile's) settings into a working Atlas client: the
// secret read from its file, environment or systemd credential, the TLS transport with the
// configured CA, the retry policy. Shared by `submit`, `run-now --dry-run` and the daemon.

#include "atlas/client.hpp"
#include "config/config.hpp"
#include "config/secrets.hpp"
#include "util/error.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <string>

namespace atlas_restored::cli {

atlas::retry_policy to_retry_policy(const config::retry_settings& retry);

// The secret the auth section names (file, environment or systemd credential).
result<std::string> read_atlas_secret(const config::atlas_settings& settings, const config::environment& env);

// With the secret already read; `on_response` (optional) sees every HTTP status the transport gets
// (0: no answer), e.g. for the daemon's http_requests_total.
result<atlas::client> make_atlas_client(boost::asio::any_io_executor executor,
                                        const config::atlas_settings& settings,
                                        const config::retry_settings& retry,
                                        std::string secret,
                                        std::function<void(int status)> on_response);

// Fails (errc::invalid_input / io_failed) when the base URL is not https or a secret or the CA file
// cannot be read; the message names the file or variable, never a secret.
result<atlas::client> make_atlas_client(boost::asio::any_io_executor executor,
                                        const config::atlas_settings& settings,
                                        const config::retry_settings& retry,
                                        const config::environment& env);

}  // namespace atlas_restored::cli
