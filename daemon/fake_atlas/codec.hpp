#pragma once
// Small text codecs the fake Atlas needs for authentication and forms, written here (not shared
// with the daemon) so the fake checks the client's Digest and OAuth code independently.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace atlas_restored::fake_atlas {

std::string md5_hex(std::string_view data);
std::string hex_encode(std::span<const unsigned char> bytes);
std::string base64url_encode(std::span<const unsigned char> bytes);  // no padding
std::optional<std::string> base64_decode(std::string_view text);     // standard alphabet, padded
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// "a=1&b=x%20y" -> {a:1, b:"x y"}; nullopt on a bad escape.
std::optional<std::map<std::string, std::string>> parse_form(std::string_view body);

// Authorization: "<scheme> <rest>" split at the first space; the scheme is compared
// case-insensitively by the caller.
struct auth_header {
    std::string scheme;
    std::string rest;
};
std::optional<auth_header> split_authorization(std::string_view value);

// The comma-separated `name=token` / `name="quoted \" string"` list of a Digest header. Names are
// lower-cased; nullopt when the list is malformed.
std::optional<std::map<std::string, std::string>> parse_auth_params(std::string_view text);

// What a Digest client sent (RFC 7616 names).
struct digest_credentials {
    std::string username;
    std::string realm;
    std::string nonce;
    std::string uri;
    std::string response;
    std::optional<std::string> algorithm;
    std::optional<std::string> qop;
    std::optional<std::string> nc;
    std::optional<std::string> cnonce;
};
std::optional<digest_credentials> parse_digest(std::string_view params);

// The response a client with `password` must send: MD5 with qop=auth (or the RFC 2069 form when
// qop is absent).
std::string expected_digest_response(const digest_credentials& c,
                                     std::string_view password,
                                     std::string_view method);

// The WWW-Authenticate value of a Digest challenge, in the form Atlas sends it.
std::string digest_challenge(std::string_view realm, std::string_view nonce, bool stale);

bool iequals(std::string_view a, std::string_view b);
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace atlas_restored::fake_atlas
