#include "atlas/oauth.hpp"

#include "atlas/protocol.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace atlas_restored::atlas {
namespace json = boost::json;

namespace {

// application/x-www-form-urlencoded, as RFC 6749 §2.3.1 asks for the client id and secret
// (the same as Go's url.QueryEscape, which Atlas's own SDK uses): space becomes '+'.
std::string form_urlencode(std::string_view value) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(value.size());
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else if (c == ' ') {
            out += '+';
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 0x0f];
        }
    }
    return out;
}

std::string base64(std::string_view data) {
    std::vector<unsigned char> out(4 * ((data.size() + 2) / 3) + 1);
    const int n = EVP_EncodeBlock(
        out.data(), reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
    return std::string(reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n));
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

error bad(std::string message) {
    return make_error(errc::bad_response, "token response: " + std::move(message));
}

const json::value* member(const json::object& o, std::string_view name) {
    auto it = o.find(name);
    return it == o.end() || it->value().is_null() ? nullptr : &it->value();
}

// The OAuth error of a refused token request: "invalid_client (Invalid client credentials)".
std::string oauth_error_text(std::string_view body) {
    boost::system::error_code ec;
    const json::value v = json::parse(body, ec);
    const json::object* o = ec ? nullptr : v.if_object();
    if (o == nullptr) {
        return {};
    }
    std::string out;
    if (const json::value* e = member(*o, "error"); e && e->is_string()) {
        out = std::string(e->get_string());
    }
    if (const json::value* d = member(*o, "error_description"); d && d->is_string()) {
        out += (out.empty() ? "" : " (") + std::string(d->get_string()) + (out.empty() ? "" : ")");
    }
    return out;
}

}  // namespace

http::request build_token_request(std::string_view client_id, std::string_view client_secret) {
    http::request req;
    req.method = "POST";
    req.target = std::string(token_path);
    const std::string credentials = form_urlencode(client_id) + ":" + form_urlencode(client_secret);
    req.headers.push_back({"Authorization", "Basic " + base64(credentials)});
    req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    req.headers.push_back({"Accept", "application/json"});
    req.body = "grant_type=client_credentials";
    return req;
}

std::string bearer_authorization(std::string_view access_token) {
    return "Bearer " + std::string(access_token);
}

result<token_response> parse_token_response(const http::response& response,
                                            std::chrono::system_clock::time_point now) {
    if (response.status != 200) {
        error e = error_from_response(response, now);
        const bool refused = response.status == 400 || response.status == 401 || response.status == 403;
        if (refused && e.code != errc::rate_limited) {
            e.code = errc::auth_failed;
            const std::string oauth = oauth_error_text(response.body);
            e.message = "the token endpoint refused the service account's credentials" +
                        (oauth.empty() ? std::string() : ": " + oauth);
        }
        return e;
    }
    boost::system::error_code ec;
    const json::value v = json::parse(response.body, ec);
    if (ec) {
        return bad("the body is not valid JSON: " + ec.message());
    }
    const json::object* o = v.if_object();
    if (o == nullptr) {
        return bad("expected a JSON object");
    }
    token_response out;
    const json::value* token = member(*o, "access_token");
    if (token == nullptr || !token->is_string() || token->get_string().empty()) {
        return bad("field 'access_token' is missing or not a non-empty string");
    }
    out.access_token = std::string(token->get_string());
    if (const json::value* type = member(*o, "token_type")) {
        if (!type->is_string()) {
            return bad("field 'token_type' is not a string");
        }
        out.token_type = std::string(type->get_string());
        if (!iequals(out.token_type, "Bearer")) {
            return bad("field 'token_type' is \"" + out.token_type.substr(0, 40) + "\", not Bearer");
        }
    } else {
        out.token_type = "Bearer";
    }
    if (const json::value* expires = member(*o, "expires_in")) {
        if (expires->is_int64() && expires->get_int64() >= 0) {
            out.expires_in = expires->get_int64();
        } else if (expires->is_uint64()) {
            out.expires_in = std::numeric_limits<std::int64_t>::max();  // clamped by the cache
        } else {
            return bad("field 'expires_in' is not a non-negative integer");
        }
    }
    return out;
}

std::optional<std::string> token_cache::token(std::chrono::steady_clock::time_point now) const {
    if (token_ && now < refresh_at_) {
        return token_;
    }
    return std::nullopt;
}

void token_cache::store(const token_response& response, std::chrono::steady_clock::time_point now) {
    const std::chrono::seconds lifetime =
        response.expires_in <= 0
            ? unknown_lifetime
            : std::min(
                  std::chrono::seconds(std::min<std::int64_t>(response.expires_in, max_lifetime.count())),
                  max_lifetime);
    const std::chrono::seconds margin = std::min(max_refresh_margin, lifetime / 10);
    token_ = response.access_token;
    refresh_at_ = now + lifetime - margin;
}

void token_cache::invalidate() {
    token_.reset();
}

std::optional<std::chrono::steady_clock::time_point> token_cache::refresh_at() const {
    if (!token_) {
        return std::nullopt;
    }
    return refresh_at_;
}

}  // namespace atlas_restored::atlas
