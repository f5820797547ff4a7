#include "http/proxy.hpp"

#include <boost/url/parse.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace atlas_restored::http {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::string base64(std::string_view in) {
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()),
                                  static_cast<int>(in.size()));
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
}

std::string authority(const origin& o) {
    const std::string host = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
    return host + ":" + std::to_string(o.port);
}

bool safe_header_value(std::string_view s) {
    return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

}  // namespace

result<proxy_settings> parse_proxy_url(std::string_view url, const std::optional<std::string>& credentials) {
    // Never echo the URL itself: it may hold a password.
    if (url.find("://") == std::string_view::npos) {
        // A bare "host:port", as curl and others accept in $https_proxy.
        return parse_proxy_url("http://" + std::string(url), credentials);
    }
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) {
        return make_error(errc::invalid_input, "the proxy setting is not a URL like http://proxy.corp:3128");
    }
    const std::string scheme = lower(parsed->scheme());
    if (scheme != "http") {
        return make_error(errc::invalid_input,
                          "proxy scheme '" + scheme +
                              "://' is not supported: use an http:// proxy (HTTPS to Atlas stays end to end "
                              "through CONNECT)");
    }
    if (!parsed->has_authority() || parsed->host().empty()) {
        return make_error(errc::invalid_input, "the proxy URL has no host");
    }
    proxy_settings p;
    p.host = parsed->host_address();
    if (parsed->has_port()) {
        const auto text = parsed->port();
        unsigned value = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
            return make_error(errc::invalid_input, "the proxy URL has an invalid port");
        }
        p.port = static_cast<std::uint16_t>(value);
    } else {
        p.port = 80;
    }
    p.display = "http://" + (p.host.find(':') != std::string::npos ? "[" + p.host + "]" : p.host) + ":" +
                std::to_string(p.port);
    std::string userinfo;
    if (credentials) {
        userinfo = *credentials;
        while (!userinfo.empty() && (userinfo.back() == '\n' || userinfo.back() == '\r')) {
            userinfo.pop_back();
        }
    } else if (parsed->has_userinfo()) {
        userinfo = std::string(parsed->user()) + ":" + std::string(parsed->password());
    }
    if (!userinfo.empty()) {
        if (!safe_header_value(userinfo) || userinfo.find(':') == std::string::npos) {
            return make_error(
                errc::invalid_input,
                "the proxy credentials must be one line \"user:password\" (for " + p.display + ")");
        }
        p.authorization = "Basic " + base64(userinfo);
    }
    return p;
}

std::vector<std::string> parse_no_proxy(std::string_view text) {
    std::vector<std::string> out;
    std::string current;
    auto flush = [&] {
        if (!current.empty()) {
            out.push_back(lower(current));
            current.clear();
        }
    };
    for (char c : text) {
        if (c == ',' || c == ' ' || c == '\t') {
            flush();
        } else {
            current += c;
        }
    }
    flush();
    return out;
}

bool bypasses_proxy(const std::vector<std::string>& no_proxy, std::string_view host_in, std::uint16_t port) {
    const std::string host = lower(host_in);
    for (std::string rule : no_proxy) {
        if (rule == "*") {
            return true;
        }
        std::optional<std::uint16_t> rule_port;
        // "host:port" (but not a bare IPv6 address; "[::1]:443" is bracketed).
        if (auto colon = rule.rfind(':');
            colon != std::string::npos && (rule.find(':') == colon || rule.front() == '[')) {
            unsigned value = 0;
            auto [end, ec] = std::from_chars(rule.data() + colon + 1, rule.data() + rule.size(), value);
            if (ec == std::errc{} && end == rule.data() + rule.size() && value <= 65535) {
                rule_port = static_cast<std::uint16_t>(value);
                rule.resize(colon);
            }
        }
        if (rule.size() >= 2 && rule.front() == '[' && rule.back() == ']') {
            rule = rule.substr(1, rule.size() - 2);
        }
        if (rule.size() > 1 && rule[0] == '*' && rule[1] == '.') {
            rule.erase(0, 1);  // "*.example.com" as some tools write it
        }
        while (!rule.empty() && rule.front() == '.') {
            rule.erase(0, 1);
        }
        if (rule.empty() || (rule_port && *rule_port != port)) {
            continue;
        }
        if (host == rule) {
            return true;
        }
        if (host.size() > rule.size() && host.compare(host.size() - rule.size(), rule.size(), rule) == 0 &&
            host[host.size() - rule.size() - 1] == '.') {
            return true;
        }
    }
    return false;
}

result<std::optional<proxy_settings>> choose_proxy(const std::optional<std::string>& configured,
                                                   const std::optional<std::string>& credentials,
                                                   const env_lookup& getenv) {
    if (configured) {
        auto p = parse_proxy_url(*configured, credentials);
        if (!p) {
            auto e = p.error();
            e.message = "atlas.proxy: " + e.message;
            return e;
        }
        return std::optional<proxy_settings>(std::move(*p));
    }
    std::optional<std::string> from_env;
    const char* name = nullptr;
    for (const char* candidate : {"https_proxy", "HTTPS_PROXY"}) {
        if (auto v = getenv(candidate); v && !v->empty()) {
            from_env = v;
            name = candidate;
            break;
        }
    }
    if (!from_env) {
        return std::optional<proxy_settings>();
    }
    auto p = parse_proxy_url(*from_env, credentials);
    if (!p) {
        auto e = p.error();
        e.message = std::string("$") + name + ": " + e.message;
        return e;
    }
    for (const char* candidate : {"no_proxy", "NO_PROXY"}) {
        if (auto v = getenv(candidate); v && !v->empty()) {
            p->no_proxy = parse_no_proxy(*v);
            break;
        }
    }
    return std::optional<proxy_settings>(std::move(*p));
}

env_lookup process_environment() {
    return [](const char* name) -> std::optional<std::string> {
        if (const char* v = std::getenv(name)) {
            return std::string(v);
        }
        return std::nullopt;
    };
}

std::string connect_request(const proxy_settings& proxy, const origin& target, std::string_view user_agent) {
    const std::string where = authority(target);
    std::string text = "CONNECT " + where + " HTTP/1.1\r\nHost: " + where + "\r\n";
    if (!user_agent.empty()) {
        text += "User-Agent: " + std::string(user_agent) + "\r\n";
    }
    if (!proxy.authorization.empty()) {
        text += "Proxy-Authorization: " + proxy.authorization + "\r\n";
    }
    text += "\r\n";
    return text;
}

error proxy_refusal(const proxy_settings& proxy, const origin& target, int status, std::string_view reason) {
    std::string message = "proxy " + proxy.display + " refused to open a tunnel to " + authority(target) +
                          ": HTTP " + std::to_string(status);
    if (!reason.empty() && safe_header_value(reason) && reason.size() < 200) {
        message += " " + std::string(reason);
    }
    error e;
    if (status == 407) {
        message +=
            proxy.authorization.empty()
                ? " (the proxy wants credentials: set atlas.proxy_credentials_file or user:password in "
                  "$https_proxy)"
                : " (the proxy did not accept the configured credentials)";
        e = make_error(errc::auth_failed, message);
    } else if (status >= 500) {
        // The proxy could not reach the target (502, 503, 504): nothing reached Atlas; worth a retry.
        e = make_error(errc::connect_failed, message);
    } else {
        if (status == 403) {
            message += " (the proxy's policy forbids this destination)";
        }
        e = make_error(errc::http_status, message);
    }
    e.request_sent = false;
    return e;
}

}  // namespace atlas_restored::http
