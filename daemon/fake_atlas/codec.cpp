#include "fake_atlas/codec.hpp"

#include <openssl/evp.h>

#include <array>
#include <stdexcept>

namespace atlas_restored::fake_atlas {

namespace {

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = lower(c);
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

bool constant_time_equals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    }
    return diff == 0;
}

std::string hex_encode(std::span<const unsigned char> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

std::string md5_hex(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr) != 1) {
        throw std::runtime_error("OpenSSL cannot compute MD5");
    }
    return hex_encode({md, len});
}

std::string base64url_encode(std::span<const unsigned char> bytes) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        std::uint32_t v = bytes[i] << 16 | bytes[i + 1] << 8 | bytes[i + 2];
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    if (bytes.size() - i == 1) {
        std::uint32_t v = bytes[i] << 16;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
    } else if (bytes.size() - i == 2) {
        std::uint32_t v = bytes[i] << 16 | bytes[i + 1] << 8;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') {
            return c - 'A';
        }
        if (c >= 'a' && c <= 'z') {
            return c - 'a' + 26;
        }
        if (c >= '0' && c <= '9') {
            return c - '0' + 52;
        }
        if (c == '+') {
            return 62;
        }
        if (c == '/') {
            return 63;
        }
        return -1;
    };
    if (text.size() % 4 != 0) {
        return std::nullopt;
    }
    std::string out;
    for (std::size_t i = 0; i < text.size(); i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            char c = text[i + k];
            if (c == '=' && i + 4 == text.size() && k >= 2) {
                v[k] = 0;
                ++pad;
            } else if (pad > 0 || (v[k] = value(c)) < 0) {
                return std::nullopt;
            }
        }
        std::uint32_t w = v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3];
        out += static_cast<char>((w >> 16) & 0xff);
        if (pad < 2) {
            out += static_cast<char>((w >> 8) & 0xff);
        }
        if (pad < 1) {
            out += static_cast<char>(w & 0xff);
        }
    }
    return out;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size()) {
                return std::nullopt;
            }
            int hi = hex_value(text[i + 1]);
            int lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<std::map<std::string, std::string>> parse_form(std::string_view body) {
    std::map<std::string, std::string> out;
    while (!body.empty()) {
        auto amp = body.find('&');
        std::string_view pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        auto eq = pair.find('=');
        auto key = percent_decode(pair.substr(0, eq), true);
        auto value =
            percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
        if (!key || !value) {
            return std::nullopt;
        }
        out.emplace(std::move(*key), std::move(*value));
    }
    return out;
}

std::optional<auth_header> split_authorization(std::string_view value) {
    value = trim(value);
    auto space = value.find(' ');
    if (space == std::string_view::npos || space == 0) {
        return std::nullopt;
    }
    return auth_header{std::string(value.substr(0, space)), std::string(trim(value.substr(space + 1)))};
}

std::optional<std::map<std::string, std::string>> parse_auth_params(std::string_view text) {
    std::map<std::string, std::string> out;
    std::size_t i = 0;
    auto skip_ws = [&] {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) {
            ++i;
        }
    };
    while (true) {
        skip_ws();
        if (i >= text.size()) {
            break;
        }
        std::size_t start = i;
        while (i < text.size() && text[i] != '=' && text[i] != ',' && text[i] != ' ') {
            ++i;
        }
        std::string name;
        for (char c : text.substr(start, i - start)) {
            name += lower(c);
        }
        skip_ws();
        if (name.empty() || i >= text.size() || text[i] != '=') {
            return std::nullopt;
        }
        ++i;
        skip_ws();
        std::string value;
        if (i < text.size() && text[i] == '"') {
            ++i;
            bool closed = false;
            while (i < text.size()) {
                char c = text[i++];
                if (c == '\\' && i < text.size()) {
                    value += text[i++];
                } else if (c == '"') {
                    closed = true;
                    break;
                } else {
                    value += c;
                }
            }
            if (!closed) {
                return std::nullopt;
            }
        } else {
            std::size_t v = i;
            while (i < text.size() && text[i] != ',' && text[i] != ' ' && text[i] != '\t') {
                ++i;
            }
            value = std::string(text.substr(v, i - v));
        }
        if (out.count(name) != 0) {
            return std::nullopt;  // a repeated directive is ambiguous: refuse it
        }
        out.emplace(std::move(name), std::move(value));
        skip_ws();
        if (i < text.size()) {
            if (text[i] != ',') {
                return std::nullopt;
            }
            ++i;
        }
    }
    return out;
}

std::optional<digest_credentials> parse_digest(std::string_view params) {
    auto p = parse_auth_params(params);
    if (!p) {
        return std::nullopt;
    }
    auto get = [&](const char* name) -> std::optional<std::string> {
        auto it = p->find(name);
        if (it == p->end()) {
            return std::nullopt;
        }
        return it->second;
    };
    digest_credentials c;
    auto username = get("username");
    auto realm = get("realm");
    auto nonce = get("nonce");
    auto uri = get("uri");
    auto response = get("response");
    if (!username || !realm || !nonce || !uri || !response) {
        return std::nullopt;
    }
    c.username = *username;
    c.realm = *realm;
    c.nonce = *nonce;
    c.uri = *uri;
    c.response = *response;
    c.algorithm = get("algorithm");
    c.qop = get("qop");
    c.nc = get("nc");
    c.cnonce = get("cnonce");
    return c;
}

std::string expected_digest_response(const digest_credentials& c,
                                     std::string_view password,
                                     std::string_view method) {
    const std::string ha1 = md5_hex(c.username + ":" + c.realm + ":" + std::string(password));
    const std::string ha2 = md5_hex(std::string(method) + ":" + c.uri);
    if (!c.qop) {
        return md5_hex(ha1 + ":" + c.nonce + ":" + ha2);
    }
    return md5_hex(ha1 + ":" + c.nonce + ":" + c.nc.value_or("") + ":" + c.cnonce.value_or("") + ":" +
                   *c.qop + ":" + ha2);
}

std::string digest_challenge(std::string_view realm, std::string_view nonce, bool stale) {
    std::string out = "Digest realm=\"";
    out += realm;
    out += "\", domain=\"\", nonce=\"";
    out += nonce;
    out += "\", algorithm=MD5, qop=\"auth\", stale=";
    out += stale ? "true" : "false";
    return out;
}

}  // namespace atlas_restored::fake_atlas
