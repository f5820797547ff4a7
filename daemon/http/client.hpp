#pragma once
// HTTPS client: TLS 1.2+, peer and host-name verification, SNI, deadlines, keep-alive pool per
// origin, a response body limit, and streaming of large bodies. Beast stays in client.cpp.

#include "http/message.hpp"
#include "http/proxy.hpp"
#include "util/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace atlas_restored::http {

struct client_options {
    std::optional<std::string> ca_file;  // PEM bundle; unset: the system trust store
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds request_timeout{30'000};
    std::size_t body_limit = 32 * 1024 * 1024;  // for buffered (non-streamed) responses
    std::size_t max_idle_per_origin = 8;
    // Buffered exchanges (API calls) in flight per origin; more wait for one to end and reuse its
    // connection, instead of each opening (and TLS-handshaking) its own. Streamed downloads are
    // not counted: a long download must not hold up the calls that poll. 0: no limit.
    std::size_t max_buffered_per_origin = 8;
    std::string user_agent = "atlas-restored";
    // Called once per send()/send_streaming() that reached the network, with the final answer's
    // status, or 0 when no status line arrived (connect, TLS, timeout or connection failures). The
    // status counts even when a streaming sink then refused the body. For metrics; must not throw.
    std::function<void(int status)> on_response;
    // HTTPS through this forward proxy (CONNECT host:port, then TLS end to end with the real host
    // verified), except for hosts its no_proxy list names. Unset: direct connections.
    std::optional<proxy_settings> proxy;
};

struct client_stats {
    std::uint64_t connections_opened = 0;  // TCP connections (each one TLS handshake)
    std::uint64_t requests = 0;
};

// Receives a streamed body through a fixed buffer. on_head is called once before any data;
// an error from either callback aborts the exchange and closes the connection.
class body_sink {
  public:
    virtual ~body_sink() = default;
    virtual result<void> on_head(const response& head) = 0;
    virtual result<void> on_data(std::span<const char> bytes) = 0;
};

class https_client {
  public:
    // Fails when the CA file cannot be read.
    static result<https_client> create(boost::asio::any_io_executor executor, client_options options);

    // One exchange, buffered. Reuses an idle connection to the origin when one exists; a request on
    // a reused connection that the server had already closed is retried once on a fresh connection
    // only when nothing was written. Errors say whether the request may have been sent.
    boost::asio::awaitable<result<response>> send(origin where, request req);

    // Like send, but the body goes to sink in chunks; the returned response has an empty body.
    boost::asio::awaitable<result<response>> send_streaming(origin where,
                                                            request req,
                                                            std::shared_ptr<body_sink> sink);

    client_stats stats() const;
    void close_idle_connections();

  private:
    struct impl;
    explicit https_client(std::shared_ptr<impl> impl);
    std::shared_ptr<impl> impl_;
};

}  // namespace atlas_restored::http
