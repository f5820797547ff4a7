#pragma once
// A small HTTP CONNECT proxy for tests (issue 7): listens on 127.0.0.1, answers
// "CONNECT host:port" with 200 and relays bytes both ways, so the client's TLS session runs end to
// end through it. It can demand Proxy-Authorization (407 otherwise), refuse every tunnel with a
// status (e.g. 403), or send every tunnel to another port (a machine-in-the-middle the client
// must refuse by its certificate). Only 127.0.0.1 / localhost targets are dialled. Plain POSIX
// sockets and one thread per connection; every wait is bounded by the stop flag.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace atlas_restored::testing {

struct connect_proxy_options {
    std::string required_authorization;          // "Basic …"; empty: none required
    int refuse_status = 0;                       // e.g. 403: refuse every CONNECT with it
    std::optional<std::uint16_t> redirect_port;  // dial 127.0.0.1:<this> whatever was asked
};

class connect_proxy {
  public:
    explicit connect_proxy(connect_proxy_options options = {});
    ~connect_proxy();
    connect_proxy(const connect_proxy&) = delete;
    connect_proxy& operator=(const connect_proxy&) = delete;

    std::uint16_t port() const { return port_; }
    std::string url() const;  // http://127.0.0.1:PORT

    int tunnels() const { return tunnels_.load(); }  // CONNECTs answered 200
    int refused() const { return refused_.load(); }  // CONNECTs answered 4xx/5xx
    std::vector<std::string> targets() const;        // "host:port" of every CONNECT, in order
    std::vector<std::string> request_heads() const;  // every CONNECT request head as received

  private:
    void accept_loop();
    void serve(int fd);

    connect_proxy_options options_;
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> tunnels_{0};
    std::atomic<int> refused_{0};
    mutable std::mutex mutex_;
    std::vector<std::string> targets_;
    std::vector<std::string> heads_;
    std::vector<std::thread> workers_;
    std::thread acceptor_;
};

}  // namespace atlas_restored::testing
