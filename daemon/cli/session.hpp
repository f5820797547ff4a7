#pragma once
// Turns the configuration's atlas: (or a profile's) settings into a working Atlas client: the
// secret read from its file, environment or systemd credential, the TLS transport with the
// configured CA, the retry policy. Shared by `submit`, `run-now --dry-run` and the daemon.

#include "atlas/client.hpp"
#include "config/config.hpp"
#include "config/secrets.hpp"
#include "util/error.hpp"

#include <boost/asio/any_io_executor.hpp>

namespace atlas_restored::cli {

atlas::retry_policy to_retry_policy(const config::retry_settings& retry);

// Fails (errc::invalid_input / io_failed) when the base URL is not https or a secret or the CA file
// cannot be read; the message names the file or variable, never a secret.
result<atlas::client> make_atlas_client(boost::asio::any_io_executor executor,
                                        const config::atlas_settings& settings,
                                        const config::retry_settings& retry,
                                        const config::environment& env);

}  // namespace atlas_restored::cli
