#pragma once
// A small test/demo PKI: a CA and server certificates signed by it (EC P-256, SHA-256). The fake
// Atlas makes its own CA with it, and the tests make good, wrong-host and untrusted certificates.
// Not for production use: keys are written unencrypted (mode 0600).

#include "util/error.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace atlas_restored::http {

// Writes dir/ca.pem and dir/ca-key.pem (creating dir). The CA is valid from an hour ago for ten
// years, with basicConstraints CA:TRUE and keyUsage keyCertSign.
result<void> generate_ca(const std::filesystem::path& dir, std::string common_name);

// Issues a server certificate signed by the CA in ca_dir (ca.pem + ca-key.pem). Each name is a DNS
// name or an IP address and goes into subjectAltName as DNS: or IP:; the first is also the CN.
result<void> issue_certificate(const std::filesystem::path& ca_dir,
                               const std::filesystem::path& cert_out,
                               const std::filesystem::path& key_out,
                               std::vector<std::string> names);

}  // namespace atlas_restored::http
