#include "atlas/digest.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <random>
#include <stdexcept>

namespace atlas_restored::atlas {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

// RFC 9110 tchar.
bool is_tchar(char c) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
        return true;
    }
    switch (c) {
        case '!':
        case '#':
        case '$':
        case '%':
        case '&':
        case '\'':
        case '*':
        case '+':
        case '-':
        case '.':
        case '^':
        case '_':
        case '`':
        case '|':
        case '~':
            return true;
        default:
            return false;
    }
}

struct auth_param {
    std::string name;
    std::string value;
};

struct auth_item {
    std::string scheme;
    std::vector<auth_param> params;
};

// A cursor over a WWW-Authenticate or Authorization value. Every loop consumes at least one
// character or stops, so no input can make it spin.
class cursor {
  public:
    explicit cursor(std::string_view s) : s_(s) {}

    bool done() const { return pos_ >= s_.size(); }
    char peek() const { return s_[pos_]; }
    void advance() { ++pos_; }
    std::size_t pos() const { return pos_; }
    void rewind(std::size_t to) { pos_ = to; }

    void skip_ows() {
        while (!done() && (peek() == ' ' || peek() == '\t')) {
            ++pos_;
        }
    }
    void skip_ows_and_commas() {
        while (!done() && (peek() == ' ' || peek() == '\t' || peek() == ',')) {
            ++pos_;
        }
    }
    std::string_view token() {
        const std::size_t start = pos_;
        while (!done() && is_tchar(peek())) {
            ++pos_;
        }
        return s_.substr(start, pos_ - start);
    }
    // At an opening quote; backslash escapes the next character. nullopt when unterminated.
    std::optional<std::string> quoted_string() {
        ++pos_;
        std::string out;
        while (!done()) {
            const char c = s_[pos_++];
            if (c == '"') {
                return out;
            }
            if (c == '\\') {
                if (done()) {
                    return std::nullopt;
                }
                out += s_[pos_++];
            } else {
                out += c;
            }
        }
        return std::nullopt;
    }

  private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

error syntax_error(std::string_view what, std::size_t pos) {
    return make_error(errc::bad_response,
                      std::string(what) + " header is malformed near character " + std::to_string(pos + 1));
}

// challenge = scheme [ 1*SP #auth-param ] ; several challenges separated by commas. A token that
// is not followed by '=' starts the next challenge.
result<std::vector<auth_item>> parse_auth_items(std::string_view value, std::string_view what) {
    std::vector<auth_item> items;
    cursor c(value);
    while (true) {
        c.skip_ows_and_commas();
        if (c.done()) {
            break;
        }
        const std::string_view scheme = c.token();
        if (scheme.empty()) {
            return syntax_error(what, c.pos());
        }
        auth_item item{std::string(scheme), {}};
        while (true) {
            c.skip_ows_and_commas();
            if (c.done()) {
                break;
            }
            const std::size_t start = c.pos();
            const std::string_view name = c.token();
            if (name.empty()) {
                return syntax_error(what, c.pos());
            }
            c.skip_ows();
            if (c.done() || c.peek() != '=') {
                c.rewind(start);  // the next challenge's scheme
                break;
            }
            c.advance();
            c.skip_ows();
            std::string param_value;
            if (!c.done() && c.peek() == '"') {
                auto q = c.quoted_string();
                if (!q) {
                    return syntax_error(what, c.pos());
                }
                param_value = std::move(*q);
            } else {
                param_value = std::string(c.token());
            }
            item.params.push_back({std::string(name), std::move(param_value)});
            c.skip_ows();
            if (!c.done() && c.peek() != ',') {
                return syntax_error(what, c.pos());
            }
        }
        items.push_back(std::move(item));
    }
    return items;
}

std::string quote(std::string_view value) {
    std::string out = "\"";
    for (const char c : value) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    out += '"';
    return out;
}

std::string to_hex(const unsigned char* data, std::size_t size) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        out += hex[data[i] >> 4];
        out += hex[data[i] & 0x0f];
    }
    return out;
}

std::string md5_hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int size = 0;
    if (EVP_Digest(data.data(), data.size(), md.data(), &size, EVP_md5(), nullptr) != 1) {
        // Only a provider without MD5 (a FIPS-only build) gets here; Digest cannot work there.
        throw std::runtime_error("MD5 is not available from OpenSSL");
    }
    return to_hex(md.data(), size);
}

std::string join(std::initializer_list<std::string_view> parts) {
    std::string out;
    for (const auto part : parts) {
        if (!out.empty()) {
            out += ':';
        }
        out += part;
    }
    return out;
}

}  // namespace

result<digest_challenge> parse_digest_challenge(std::string_view www_authenticate) {
    auto items = parse_auth_items(www_authenticate, "WWW-Authenticate");
    if (!items) {
        return items.error();
    }
    for (const auto& item : *items) {
        if (!iequals(item.scheme, "Digest")) {
            continue;
        }
        digest_challenge c;
        bool has_realm = false;
        for (const auto& p : item.params) {
            if (iequals(p.name, "realm")) {
                c.realm = p.value;
                has_realm = true;
            } else if (iequals(p.name, "nonce")) {
                c.nonce = p.value;
            } else if (iequals(p.name, "opaque")) {
                c.opaque = p.value;
            } else if (iequals(p.name, "algorithm")) {
                c.algorithm = p.value;
            } else if (iequals(p.name, "domain")) {
                c.domain = p.value;
            } else if (iequals(p.name, "stale")) {
                c.stale = iequals(p.value, "true");
            } else if (iequals(p.name, "qop")) {
                c.qop.clear();
                std::string_view list = p.value;
                while (!list.empty()) {
                    const std::size_t comma = list.find(',');
                    std::string_view option = list.substr(0, comma);
                    while (!option.empty() && (option.front() == ' ' || option.front() == '\t')) {
                        option.remove_prefix(1);
                    }
                    while (!option.empty() && (option.back() == ' ' || option.back() == '\t')) {
                        option.remove_suffix(1);
                    }
                    if (!option.empty()) {
                        c.qop.emplace_back(option);
                    }
                    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
                }
            }
        }
        if (!has_realm) {
            return make_error(errc::bad_response, "the Digest challenge has no realm");
        }
        if (c.nonce.empty()) {
            return make_error(errc::bad_response, "the Digest challenge has no nonce");
        }
        return c;
    }
    return make_error(errc::bad_response, "WWW-Authenticate offers no Digest challenge");
}

std::string format_digest_challenge(const digest_challenge& challenge) {
    std::string out = "Digest realm=" + quote(challenge.realm) + ", domain=" + quote(challenge.domain) +
                      ", nonce=" + quote(challenge.nonce);
    if (!challenge.opaque.empty()) {
        out += ", opaque=" + quote(challenge.opaque);
    }
    out += ", algorithm=" + (challenge.algorithm.empty() ? std::string("MD5") : challenge.algorithm);
    if (!challenge.qop.empty()) {
        std::string qop;
        for (const auto& q : challenge.qop) {
            qop += (qop.empty() ? "" : ",") + q;
        }
        out += ", qop=" + quote(qop);
    }
    out += challenge.stale ? ", stale=true" : ", stale=false";
    return out;
}

std::string digest_response_md5(std::string_view username,
                                std::string_view realm,
                                std::string_view password,
                                std::string_view method,
                                std::string_view uri,
                                std::string_view nonce,
                                std::string_view nc_hex8,
                                std::string_view cnonce,
                                std::string_view qop) {
    const std::string ha1 = md5_hex(join({username, realm, password}));
    const std::string ha2 = md5_hex(join({method, uri}));
    if (qop.empty()) {
        return md5_hex(join({ha1, nonce, ha2}));
    }
    return md5_hex(join({ha1, nonce, nc_hex8, cnonce, qop, ha2}));
}

result<digest_credentials> parse_digest_authorization(std::string_view authorization_header) {
    auto items = parse_auth_items(authorization_header, "Authorization");
    if (!items) {
        return items.error();
    }
    if (items->size() != 1 || !iequals(items->front().scheme, "Digest")) {
        return make_error(errc::bad_response, "Authorization is not one set of Digest credentials");
    }
    digest_credentials d;
    struct field {
        std::string_view name;
        std::string digest_credentials::*member;
        bool required;
        bool seen;
    };
    std::array<field, 10> fields{{{"username", &digest_credentials::username, true, false},
                                  {"realm", &digest_credentials::realm, true, false},
                                  {"nonce", &digest_credentials::nonce, true, false},
                                  {"uri", &digest_credentials::uri, true, false},
                                  {"response", &digest_credentials::response, true, false},
                                  {"algorithm", &digest_credentials::algorithm, false, false},
                                  {"opaque", &digest_credentials::opaque, false, false},
                                  {"qop", &digest_credentials::qop, false, false},
                                  {"nc", &digest_credentials::nc, false, false},
                                  {"cnonce", &digest_credentials::cnonce, false, false}}};
    for (const auto& p : items->front().params) {
        for (auto& f : fields) {
            if (iequals(p.name, f.name)) {
                d.*f.member = p.value;
                f.seen = true;
            }
        }
    }
    for (const auto& f : fields) {
        if (f.required && !f.seen) {
            return make_error(errc::bad_response,
                              "Digest credentials lack the " + std::string(f.name) + " directive");
        }
    }
    return d;
}

std::string make_cnonce() {
    std::array<unsigned char, 8> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        // A cnonce needs to be unpredictable, not secret; the OS generator will do.
        std::random_device rd;
        for (auto& b : bytes) {
            b = static_cast<unsigned char>(rd());
        }
    }
    return to_hex(bytes.data(), bytes.size());
}

result<void> digest_session::accept_challenge(digest_challenge challenge) {
    if (!challenge.algorithm.empty() && !iequals(challenge.algorithm, "MD5")) {
        return make_error(
            errc::auth_failed,
            "the server asks for Digest algorithm " + challenge.algorithm + "; only MD5 is supported");
    }
    bool has_auth = false;
    for (const auto& q : challenge.qop) {
        has_auth = has_auth || iequals(q, "auth");
    }
    if (!has_auth) {
        return make_error(errc::auth_failed, "the server's Digest challenge does not offer qop \"auth\"");
    }
    if (!challenge_ || challenge_->nonce != challenge.nonce) {
        nc_ = 0;
    }
    challenge_ = std::move(challenge);
    return {};
}

std::string digest_session::authorization(std::string_view method,
                                          std::string_view uri,
                                          std::string_view username,
                                          std::string_view password,
                                          std::string cnonce) {
    if (!challenge_) {
        return {};
    }
    // After 2^32-1 uses of one nonce the count would wrap; starting over makes the server answer
    // with a fresh challenge, which is what we want anyway.
    if (nc_ == UINT32_MAX) {
        nc_ = 0;
    }
    ++nc_;
    std::array<char, 9> nc_hex{};
    std::snprintf(nc_hex.data(), nc_hex.size(), "%08x", static_cast<unsigned>(nc_));
    const std::string_view nc(nc_hex.data(), 8);
    const digest_challenge& c = *challenge_;
    const std::string response =
        digest_response_md5(username, c.realm, password, method, uri, c.nonce, nc, cnonce, "auth");
    std::string out = "Digest username=" + quote(username) + ", realm=" + quote(c.realm) +
                      ", nonce=" + quote(c.nonce) + ", uri=" + quote(uri) + ", response=" + quote(response) +
                      ", algorithm=MD5, qop=auth, nc=" + std::string(nc) + ", cnonce=" + quote(cnonce);
    if (!c.opaque.empty()) {
        out += ", opaque=" + quote(c.opaque);
    }
    return out;
}

void digest_session::reset() {
    challenge_.reset();
    nc_ = 0;
}

}  // namespace atlas_restored::atlas
