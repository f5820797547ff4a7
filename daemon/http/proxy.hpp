#pragma once
// HTTPS through a forward proxy (SPEC §2 `atlas.proxy`, issue 7): which proxy applies to a host
// (the configured one, else $https_proxy / $HTTPS_PROXY with $no_proxy / $NO_PROXY), and the
// CONNECT request that opens the tunnel. The TLS session inside the tunnel is end to end: the
// client verifies the real host's certificate and name, the proxy sees only "host:port".
// Proxy credentials (user:password from the URL's userinfo or from a file) are a secret: they
// only ever appear in the Proxy-Authorization header, never in a message or a log line.

#include "http/message.hpp"
#include "util/error.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atlas_restored::http {

struct proxy_settings {
    std::string host;
    std::uint16_t port = 3128;
    std::string authorization;  // "Basic …" or empty: a secret
    std::string display;        // "http://proxy.corp:3128": what messages and logs may name
    // Hosts that bypass the proxy ($no_proxy). Empty for a configured atlas.proxy.
    std::vector<std::string> no_proxy;
};

// "http://[user:password@]host[:port][/]" → settings. `credentials` ("user:password", e.g. read
// from atlas.proxy_credentials_file) replaces any userinfo of the URL. Only http:// proxies are
// supported (the tunnel is opened in clear, the TLS inside it is end to end).
result<proxy_settings> parse_proxy_url(std::string_view url, const std::optional<std::string>& credentials);

// Which proxy applies: `configured` (atlas.proxy) when set, otherwise https_proxy / HTTPS_PROXY
// from `getenv` with no_proxy / NO_PROXY; nullopt: connect directly.
using env_lookup = std::function<std::optional<std::string>(const char* name)>;
result<std::optional<proxy_settings>> choose_proxy(const std::optional<std::string>& configured,
                                                   const std::optional<std::string>& credentials,
                                                   const env_lookup& getenv);
env_lookup process_environment();

// $no_proxy rules: entries separated by commas or spaces; "*" matches every host; "example.com",
// ".example.com" and "*.example.com" match that host and its subdomains; "host:port" only that port; an IP
// address matches itself. Case-insensitive.
std::vector<std::string> parse_no_proxy(std::string_view text);
bool bypasses_proxy(const std::vector<std::string>& no_proxy, std::string_view host, std::uint16_t port);

// The CONNECT request for a tunnel to `target` (authority form "host:port", IPv6 in brackets).
std::string connect_request(const proxy_settings& proxy, const origin& target, std::string_view user_agent);

// Why a proxy refused a CONNECT, naming the proxy (not the target as the one at fault).
error proxy_refusal(const proxy_settings& proxy, const origin& target, int status, std::string_view reason);

}  // namespace atlas_restored::http
