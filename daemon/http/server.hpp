#pragma once
// A small HTTP/1.1 server (HTTPS when given a certificate): used by fake-atlas and by the daemon's
// /metrics endpoint. The handler decides everything, including faults the fake Atlas injects.

#include "http/message.hpp"
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

struct server_options {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;  // 0: the kernel picks one; see server::port()
    std::optional<std::string> cert_file;  // with key_file: HTTPS; without: plain HTTP
    std::optional<std::string> key_file;
    std::chrono::milliseconds idle_timeout{30'000};
    std::size_t request_body_limit = 1024 * 1024;
};

struct connection_info {
    std::uint64_t connection_id = 0;  // 1-based, in accept order
    std::uint64_t request_index = 0;  // 1-based within the connection
};

enum class fault {
    none,
    close_without_reply,  // read the request, then close: the client cannot know what happened
    reset,                // read the request, then reset the connection (RST)
    truncate_body,        // announce the full Content-Length, send truncate_after bytes, close
};

struct reply {
    int status = 200;
    header_list headers;
    std::string body;
    // For large bodies: fills `out` with the bytes at `offset` of the body and returns how many it
    // wrote (0 only at the end). content_length must then be set. The body is never held whole.
    std::function<std::size_t(std::uint64_t offset, std::span<char> out)> body_source;
    std::uint64_t content_length = 0;
    fault inject = fault::none;
    std::uint64_t truncate_after = 0;
    std::chrono::milliseconds delay{0};  // stall before anything is written
    bool close = false;                  // close the connection after this reply
};

using handler = std::function<boost::asio::awaitable<reply>(request, connection_info)>;

struct server_stats {
    std::uint64_t connections_accepted = 0;
    std::uint64_t requests = 0;
};

class server {
public:
    // Binds and starts accepting on the executor. Fails on a bad address, a busy port or an
    // unreadable certificate.
    static result<std::unique_ptr<server>> start(boost::asio::any_io_executor executor,
                                                 server_options options,
                                                 handler on_request);
    ~server();
    std::uint16_t port() const;
    server_stats stats() const;
    void stop();  // stops accepting and closes open connections

private:
    struct impl;
    explicit server(std::shared_ptr<impl> impl);
    std::shared_ptr<impl> impl_;
};

}  // namespace atlas_restored::http
