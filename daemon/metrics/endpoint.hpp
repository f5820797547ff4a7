#pragma once
// The daemon's plain-HTTP scrape endpoint on metrics_listen (default 127.0.0.1:9464):
//   GET /metrics  -> 200, Prometheus text format 0.0.4 (whatever `scrape` returns)
//   GET /healthz  -> 200 "ok", or 503 with the reason `health_problem` gives
// Anything else is 404 (unknown path) or 405 (another method). No TLS: it is meant for loopback or
// a scrape network, and it serves nothing secret.

#include "http/server.hpp"
#include "util/error.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace atlas_restored::metrics {

// "127.0.0.1:9464", "[::1]:9464", "localhost:9464" -> address and port for http::server_options.
// The host must be an IP literal (or "localhost", taken as 127.0.0.1): no name resolution at start-up.
struct listen_address {
    std::string address;
    std::uint16_t port = 0;
};
result<listen_address> parse_listen(std::string_view listen);

// nullopt: healthy. Otherwise one sentence saying what is wrong ("event loop stalled for 42s").
// Called on the server's executor for every GET /healthz; it must be quick and must not throw.
using health_check = std::function<std::optional<std::string>()>;

// The body of a GET /metrics answer, e.g. [&recorder] { return recorder.render(); }.
using scrape_function = std::function<std::string()>;

// The pure part: the answer to one request.
http::reply handle_request(const http::request& req,
                           const scrape_function& scrape,
                           const health_check& health);

class endpoint {
  public:
    // Binds `listen` and serves on `executor` until stop() or destruction. Fails on a malformed
    // address or a port in use (the message names the address).
    static result<std::unique_ptr<endpoint>> start(boost::asio::any_io_executor executor,
                                                   std::string_view listen,
                                                   scrape_function scrape,
                                                   health_check health_problem);

    // The same, served by a thread of its own, so /healthz still answers (503, with the reason
    // health_problem gives) while the daemon's event loop is stuck, which a probe served by that
    // loop could never say. `scrape` and `health_problem` are then called on that thread: they
    // must be thread-safe (prometheus_recorder::render() is; read loop state through atomics).
    static result<std::unique_ptr<endpoint>> start_threaded(std::string_view listen,
                                                            scrape_function scrape,
                                                            health_check health_problem);

    ~endpoint();  // stop()
    endpoint(const endpoint&) = delete;
    endpoint& operator=(const endpoint&) = delete;

    std::uint16_t port() const;  // the bound port (useful with port 0 in tests)
    // Stops serving. With start(): call it on the executor's thread. With start_threaded(): from
    // any thread but the endpoint's own; it returns once that thread has ended.
    void stop();

  private:
    struct own_loop;
    endpoint(std::unique_ptr<own_loop> loop, std::unique_ptr<http::server> server);
    std::unique_ptr<own_loop> loop_;  // null with start()
    std::unique_ptr<http::server> server_;
    std::uint16_t port_ = 0;
};

}  // namespace atlas_restored::metrics
