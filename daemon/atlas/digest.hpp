#pragma once
// HTTP Digest authentication (RFC 7616, RFC 2617) as Atlas uses it with programmatic API keys:
// algorithm MD5, qop "auth". Pure apart from make_cnonce (random bytes): the client keeps one
// digest_session per origin, reuses the server's nonce with an incrementing nc (one round trip per
// call) and accepts a new challenge only when told to (401, typically stale=true).
// The fake Atlas uses parse_digest_authorization and digest_response_md5 to check requests.

#include "util/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atlas_restored::atlas {

struct digest_challenge {
    std::string realm;
    std::string nonce;
    std::string opaque;
    std::string algorithm;  // as sent; empty when absent (which means MD5)
    std::string domain;
    std::vector<std::string> qop;  // the quoted list split: {"auth", "auth-int"}
    bool stale = false;
};

// Reads the Digest challenge of a WWW-Authenticate value (other schemes in the same value are
// skipped; the scheme name is case-insensitive). realm and nonce are required; unknown directives
// are ignored. Any other input is errc::bad_response, never a crash.
result<digest_challenge> parse_digest_challenge(std::string_view www_authenticate);

// The WWW-Authenticate value for a challenge (for the fake Atlas):
// Digest realm="…", domain="…", nonce="…", opaque="…", algorithm=MD5, qop="auth", stale=false
std::string format_digest_challenge(const digest_challenge& challenge);

// The lower-hex response: MD5(HA1:nonce:nc:cnonce:qop:HA2) with HA1 = MD5(username:realm:password)
// and HA2 = MD5(method:uri); with an empty qop the RFC 2069 form MD5(HA1:nonce:HA2).
std::string digest_response_md5(std::string_view username,
                                std::string_view realm,
                                std::string_view password,
                                std::string_view method,
                                std::string_view uri,
                                std::string_view nonce,
                                std::string_view nc_hex8,
                                std::string_view cnonce,
                                std::string_view qop);

// The Authorization header a client sent, as the server sees it.
struct digest_credentials {
    std::string username;
    std::string realm;
    std::string nonce;
    std::string uri;
    std::string response;
    std::string algorithm;
    std::string opaque;
    std::string qop;
    std::string nc;
    std::string cnonce;
};

// Requires the Digest scheme and username, realm, nonce, uri and response.
result<digest_credentials> parse_digest_authorization(std::string_view authorization_header);

// 16 lower-hex characters from OpenSSL's RAND_bytes.
std::string make_cnonce();

// The state one client keeps per server: the last challenge and the nonce count.
class digest_session {
  public:
    // Takes a challenge (from a 401). Refused unless it offers MD5 (or no algorithm) and qop
    // "auth"; a refused challenge leaves the session as it was. A new nonce restarts nc at 0.
    result<void> accept_challenge(digest_challenge challenge);

    bool ready() const { return challenge_.has_value(); }

    // The Authorization value for one request; increments nc. `uri` is the request target (path
    // and query) exactly as sent. Returns "" when !ready().
    //   Digest username="…", realm="…", nonce="…", uri="…", response="…", algorithm=MD5, qop=auth,
    //   nc=00000001, cnonce="…"[, opaque="…"]
    std::string authorization(std::string_view method,
                              std::string_view uri,
                              std::string_view username,
                              std::string_view password,
                              std::string cnonce);

    // Forget the challenge (e.g. after the server refused the credentials).
    void reset();

    std::uint32_t nc() const { return nc_; }
    const std::optional<digest_challenge>& challenge() const { return challenge_; }

  private:
    std::optional<digest_challenge> challenge_;
    std::uint32_t nc_ = 0;
};

}  // namespace atlas_restored::atlas
