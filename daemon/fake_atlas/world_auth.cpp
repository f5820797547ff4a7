// Authentication (HTTP Digest with API keys, Bearer tokens of service accounts), the OAuth token
// endpoint and the per-group token-bucket rate limit.

#include "fake_atlas/call.hpp"
#include "fake_atlas/codec.hpp"
#include "fake_atlas/detail.hpp"
#include "fake_atlas/json_text.hpp"
#include "fake_atlas/world.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <cmath>

namespace atlas_restored::fake_atlas {

namespace {

namespace json = boost::json;

constexpr const char* realm = "MMS Public API";
// Out-of-order nonce counts within this window are accepted once each: a client may share one
// nonce across connections, so its requests can arrive out of order. A repeated count is a replay.
constexpr std::uint64_t nc_window = 64;

std::optional<std::uint64_t> parse_nc(std::string_view nc) {
    if (nc.size() != 8) {
        return std::nullopt;
    }
    std::uint64_t v = 0;
    for (char ch : nc) {
        int d = (ch >= '0' && ch <= '9')   ? ch - '0'
                : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
                : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10
                                           : -1;
        if (d < 0) {
            return std::nullopt;
        }
        v = v * 16 + static_cast<std::uint64_t>(d);
    }
    return v == 0 ? std::nullopt : std::optional(v);
}

std::string lower(std::string s) {
    for (char& ch : s) {
        if (ch >= 'A' && ch <= 'Z') {
            ch = static_cast<char>(ch - 'A' + 'a');
        }
    }
    return s;
}

http::reply oauth_error(int status, std::string_view error, std::string_view description) {
    json::object o;
    o["error"] = error;
    o["error_description"] = description;
    http::reply r;
    r.status = status;
    r.headers.push_back({"Content-Type", "application/json"});
    r.headers.push_back({"Cache-Control", "no-store"});
    r.body = json::serialize(o);
    return r;
}

struct basic_credentials {
    std::string id;
    std::string secret;
};

// Basic credentials as sent, and form-decoded: RFC 6749 clients (the Go SDK among them) URL-encode
// the client id and secret before Basic encoding.
std::vector<basic_credentials> read_basic(const http::request& req) {
    auto h = detail::header(req.headers, "Authorization");
    if (!h) {
        return {};
    }
    auto split = split_authorization(*h);
    if (!split || !iequals(split->scheme, "Basic")) {
        return {};
    }
    auto decoded = base64_decode(split->rest);
    if (!decoded) {
        return {};
    }
    auto colon = decoded->find(':');
    if (colon == std::string::npos) {
        return {};
    }
    std::vector<basic_credentials> out{{decoded->substr(0, colon), decoded->substr(colon + 1)}};
    auto id = percent_decode(out[0].id, true);
    auto secret = percent_decode(out[0].secret, true);
    if (id && secret && (*id != out[0].id || *secret != out[0].secret)) {
        out.push_back({*id, *secret});
    }
    return out;
}

}  // namespace

world::auth_outcome world::authenticate(call& c) {
    if (options_.no_auth) {
        return {principal{"*", "none", ""}, {}};
    }
    auto h = detail::header(c.req.headers, "Authorization");
    if (!h) {
        return {std::nullopt, challenge(c, false, "You are not authorized for this resource.")};
    }
    auto split = split_authorization(*h);
    if (!split) {
        return {std::nullopt, challenge(c, false, "The Authorization header is malformed.")};
    }
    c.auth = lower(split->scheme);
    if (iequals(split->scheme, "Digest")) {
        return verify_digest(c, split->rest);
    }
    if (iequals(split->scheme, "Bearer")) {
        return verify_bearer(c, split->rest);
    }
    return {std::nullopt, challenge(c, false, "Authorization scheme " + split->scheme + " is not accepted.")};
}

world::auth_outcome world::verify_digest(call& c, std::string_view params) {
    auto d = parse_digest(params);
    if (!d) {
        return {std::nullopt, challenge(c, false, "The Digest credentials are malformed.")};
    }
    if (d->nc) {
        c.digest_nc = *d->nc;
    }
    auto key = api_keys_.find(d->username);
    if (key == api_keys_.end()) {
        return {std::nullopt, challenge(c, false, "You are not authorized for this resource.")};
    }
    if (d->realm != realm || (d->algorithm && !iequals(*d->algorithm, "MD5"))) {
        return {std::nullopt,
                challenge(c, false, "Digest realm must be \"MMS Public API\" with algorithm MD5.")};
    }
    if (!d->qop || *d->qop != "auth" || !d->nc || !d->cnonce) {
        return {std::nullopt, challenge(c, false, "Digest needs qop=auth with nc and cnonce.")};
    }
    if (d->uri != c.req.target) {
        return {std::nullopt, challenge(c, false, "The Digest uri does not match the request target.")};
    }
    const std::string expected = expected_digest_response(*d, key->second.secret, c.req.method);
    if (!constant_time_equals(expected, lower(d->response))) {
        return {std::nullopt, challenge(c, false, "You are not authorized for this resource.")};
    }
    // The credentials are right; only now does the nonce's age matter (stale=true tells the client
    // to retry with the new nonce without asking for credentials again).
    auto n = nonces_.find(d->nonce);
    if (n == nonces_.end() || c.now >= n->second.issued + options_.nonce_ttl) {
        return {std::nullopt, challenge(c, true, "The nonce is stale.")};
    }
    auto nc = parse_nc(*d->nc);
    if (!nc) {
        return {std::nullopt, challenge(c, false, "The nonce count must be 8 hexadecimal digits, not 0.")};
    }
    auto& state = n->second;
    const bool too_old = *nc + nc_window <= state.highest_nc;
    if (too_old || state.recent_nc.count(*nc) != 0) {
        ++counters_.nc_replays;
        return {std::nullopt, challenge(c, false, "The nonce count was already used.")};
    }
    state.recent_nc.insert(*nc);
    state.highest_nc = std::max(state.highest_nc, *nc);
    while (!state.recent_nc.empty() && *state.recent_nc.begin() + nc_window <= state.highest_nc) {
        state.recent_nc.erase(state.recent_nc.begin());
    }
    return {principal{key->second.org, "api_key", key->first}, {}};
}

world::auth_outcome world::verify_bearer(call& c, std::string_view token) {
    auto t = tokens_.find(std::string(token));
    if (t == tokens_.end() || c.now >= t->second.expires) {
        if (t != tokens_.end()) {
            tokens_.erase(t);
        }
        return {std::nullopt,
                unauthorized(c, "The access token is invalid or expired.", "Bearer error=\"invalid_token\"")};
    }
    return {principal{t->second.org, "service_account", t->second.client_id}, {}};
}

http::reply world::challenge(const call& c, bool stale, std::string detail_text) {
    if (api_keys_.empty()) {
        return unauthorized(c, std::move(detail_text), "Bearer realm=\"MMS Public API\"");
    }
    // Forget nonces long past their lifetime so a months-long benchmark does not grow the map.
    for (auto it = nonces_.begin(); it != nonces_.end();) {
        it = c.now >= it->second.issued + 2 * options_.nonce_ttl ? nonces_.erase(it) : std::next(it);
    }
    std::string nonce = new_hex(16);
    nonces_[nonce] = nonce_model{c.now, 0, {}};
    ++counters_.challenges;
    if (stale) {
        ++counters_.stale_nonces;
    }
    http::reply r = error_reply(c, 401, "USER_UNAUTHORIZED", std::move(detail_text), false);
    r.headers.push_back({"WWW-Authenticate", digest_challenge(realm, nonce, stale)});
    return r;
}

http::reply world::unauthorized(const call& c,
                                std::string detail_text,
                                std::optional<std::string> www_authenticate) {
    ++counters_.auth_failures;
    http::reply r = error_reply(c, 401, "USER_UNAUTHORIZED", std::move(detail_text), false);
    if (www_authenticate) {
        r.headers.push_back({"WWW-Authenticate", *www_authenticate});
    }
    return r;
}

http::reply world::token_endpoint(call& c) {
    ++counters_.token_requests;
    c.auth = "basic";
    const auto creds = read_basic(c.req);
    // About 50 token requests a minute per client: counted before the credentials are checked.
    const std::string client = creds.empty() ? std::string("(none)") : creds.front().id;
    auto& window = token_requests_[client];
    while (!window.empty() && c.now - window.front() >= std::chrono::minutes(1)) {
        window.pop_front();
    }
    const int limit = options_.token_requests_per_minute;
    if (static_cast<int>(window.size()) >= limit) {
        ++counters_.rate_limited;
        const auto wait =
            std::chrono::ceil<std::chrono::seconds>(window.front() + std::chrono::minutes(1) - c.now);
        json::object o = detail::api_error(429,
                                           "RATE_LIMITED",
                                           "Resource /api/oauth/token is limited to " +
                                               std::to_string(limit) + " requests every 1 minutes.");
        o["parameters"] = json::array{"/api/oauth/token", limit, 1};
        http::reply r;
        r.status = 429;
        r.headers.push_back({"Content-Type", "application/json"});
        r.headers.push_back({"Retry-After", std::to_string(std::max<std::int64_t>(1, wait.count()))});
        r.body = json::serialize(o);
        return r;
    }
    window.push_back(c.now);

    const credential_spec* account = nullptr;
    for (const auto& cr : creds) {
        auto it = service_accounts_.find(cr.id);
        if (it != service_accounts_.end() && constant_time_equals(it->second.secret, cr.secret)) {
            account = &it->second;
            break;
        }
    }
    if (account == nullptr) {
        ++counters_.auth_failures;
        http::reply r = oauth_error(401, "invalid_client", "The client credentials are invalid.");
        r.headers.push_back({"WWW-Authenticate", "Basic realm=\"MMS Public API\""});
        return r;
    }
    auto type = detail::header(c.req.headers, "Content-Type");
    if (!type || !detail::has_media_type(*type, "application/x-www-form-urlencoded")) {
        return oauth_error(400, "invalid_request", "The body must be application/x-www-form-urlencoded.");
    }
    auto form = parse_form(c.req.body);
    if (!form || !form->count("grant_type")) {
        return oauth_error(400, "invalid_request", "grant_type is required.");
    }
    if (form->at("grant_type") != "client_credentials") {
        return oauth_error(400, "unsupported_grant_type", "Only client_credentials is supported.");
    }
    int live = 0;
    for (auto it = tokens_.begin(); it != tokens_.end();) {
        if (c.now >= it->second.expires) {
            it = tokens_.erase(it);
            continue;
        }
        live += it->second.client_id == account->id ? 1 : 0;
        ++it;
    }
    if (live >= options_.max_tokens_per_account) {
        return oauth_error(
            403,
            "access_denied",
            "Access token limit reached. Use the existing access tokens or create a new service "
            "account.");
    }
    std::string token = "fake-at-" + new_secret(32);
    tokens_[token] = token_model{account->id, account->org, c.now + options_.token_ttl};
    ++counters_.tokens_issued;
    json::object o;
    o["access_token"] = token;
    o["expires_in"] = options_.token_ttl.count();
    o["token_type"] = "Bearer";
    http::reply r;
    r.status = 200;
    r.headers.push_back({"Content-Type", "application/json"});
    r.headers.push_back({"Cache-Control", "no-store"});
    r.body = json::serialize(o);
    return r;
}

http::reply world::revoke_endpoint(call& c) {
    c.auth = "basic";
    const credential_spec* account = nullptr;
    for (const auto& cr : read_basic(c.req)) {
        auto it = service_accounts_.find(cr.id);
        if (it != service_accounts_.end() && constant_time_equals(it->second.secret, cr.secret)) {
            account = &it->second;
        }
    }
    if (account == nullptr) {
        ++counters_.auth_failures;
        return oauth_error(401, "invalid_client", "The client credentials are invalid.");
    }
    auto form = parse_form(c.req.body);
    if (!form || !form->count("token")) {
        return oauth_error(400, "invalid_request", "token is required.");
    }
    auto it = tokens_.find(form->at("token"));
    if (it != tokens_.end() && it->second.client_id == account->id) {
        tokens_.erase(it);
    }
    http::reply r;
    r.status = 200;
    r.headers.push_back({"Content-Type", "application/json"});
    r.body = "{}";
    return r;
}

std::optional<http::reply> world::rate_limit(call& c, const std::string& group_id) {
    if (!options_.rate_limit) {
        return std::nullopt;
    }
    const auto capacity = static_cast<double>(options_.rate_limit->capacity);
    const double refill = options_.rate_limit->refill_per_minute;
    auto [it, fresh] = buckets_.try_emplace(group_id, bucket_model{capacity, c.now});
    auto& b = it->second;
    if (c.now > b.last) {
        const double elapsed = std::chrono::duration<double>(c.now - b.last).count();
        b.tokens = std::min(capacity, b.tokens + elapsed * refill / 60.0);
        b.last = c.now;
    }
    if (b.tokens >= 1.0 - 1e-9) {  // refills accumulate in floating point
        b.tokens -= 1.0;
        b.tokens = std::max(0.0, b.tokens);
        c.rate_remaining = std::floor(b.tokens + 1e-9);
        return std::nullopt;
    }
    ++counters_.rate_limited;
    const auto wait = static_cast<std::int64_t>(std::max(1.0, std::ceil((1.0 - b.tokens) * 60.0 / refill)));
    const auto cap = options_.rate_limit->capacity;
    std::string refill_text =
        std::fmod(refill, 1.0) == 0 ? std::to_string(static_cast<long long>(refill)) : std::to_string(refill);
    json::object o =
        detail::api_error(429,
                          "RATE_LIMITED_TOKEN_BUCKET",
                          "Rate limit exceeded for " + c.path + ". Please retry after " +
                              std::to_string(wait) + " seconds. Request capacity: " + std::to_string(cap) +
                              ". Refill rate: " + refill_text + " per 60 seconds.");
    o["parameters"] = json::array{c.path, wait, cap, refill, 60};
    http::reply r;
    r.status = 429;
    r.headers.push_back({"Content-Type", "application/json"});
    r.headers.push_back({"Retry-After", std::to_string(wait)});
    r.headers.push_back({"RateLimit-Limit", std::to_string(cap)});
    r.headers.push_back({"RateLimit-Remaining", "0"});
    r.body = to_json_text(o, c.pretty);
    return r;
}

}  // namespace atlas_restored::fake_atlas
