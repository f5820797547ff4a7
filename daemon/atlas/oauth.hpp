#pragma once
// Service-account authentication (OAuth 2.0 client credentials) as Atlas offers it:
// POST /api/oauth/token with HTTP Basic client credentials returns a Bearer token for expires_in
// seconds. Atlas allows few token requests a minute and at most 100 live tokens per account, so
// the client caches one token and refreshes it shortly before it expires, never per request.
// Pure: the time comes in as a parameter.

#include "http/message.hpp"
#include "util/error.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace atlas_restored::atlas {

inline constexpr std::string_view token_path = "/api/oauth/token";

// POST /api/oauth/token, Authorization: Basic base64(urlencode(id) ":" urlencode(secret)) (RFC 6749
// §2.3.1), Content-Type: application/x-www-form-urlencoded, Accept: application/json, body
// grant_type=client_credentials. The request carries the secret: never log its headers.
http::request build_token_request(std::string_view client_id, std::string_view client_secret);

// "Authorization: Bearer <token>" value.
std::string bearer_authorization(std::string_view access_token);

struct token_response {
    std::string access_token;     // secret
    std::string token_type;       // "Bearer"
    std::int64_t expires_in = 0;  // seconds; 0 when the server left it out
};

// A 200 with {"access_token","token_type","expires_in"}: access_token required, token_type
// absent or Bearer, expires_in a non-negative integer when present. Other statuses go through
// error_from_response, with 400/401/403 (refused credentials, or the 100-token limit) as
// errc::auth_failed and the OAuth "error"/"error_description" in the message.
result<token_response> parse_token_response(
    const http::response& response,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// One cached token. A token is used until its expiry minus a refresh margin of
// min(5 minutes, 10% of its lifetime), so requests in flight never carry an expired token.
class token_cache {
  public:
    static constexpr std::chrono::seconds max_refresh_margin{300};
    // Used when the server did not say how long the token lives; short, so a wrong guess costs
    // little (a 401 invalidates anyway).
    static constexpr std::chrono::seconds unknown_lifetime{300};
    // Longer lifetimes are clamped: no overflow, and a token is re-minted at least daily.
    static constexpr std::chrono::seconds max_lifetime{86400};

    std::optional<std::string> token(std::chrono::steady_clock::time_point now) const;
    void store(const token_response& response, std::chrono::steady_clock::time_point now);
    void invalidate();

    // When the cached token stops being served; nullopt when there is none.
    std::optional<std::chrono::steady_clock::time_point> refresh_at() const;

  private:
    std::optional<std::string> token_;
    std::chrono::steady_clock::time_point refresh_at_{};
};

}  // namespace atlas_restored::atlas
