#pragma once
// How the command line prints JSON: compact or indented (Boost.JSON 1.81 has no pretty printer).
// Secrets are redacted before printing with atlas::redact_secrets.

#include <boost/json/value.hpp>

#include <string>

namespace atlas_restored::cli {

// Indented with two spaces (for --pretty and for humans), or compact.
std::string to_json_text(const boost::json::value& document, bool pretty);

}  // namespace atlas_restored::cli
