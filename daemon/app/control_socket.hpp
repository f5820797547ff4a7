#pragma once
// The I/O of the control channel (app/control_protocol.hpp): the daemon's listening socket and
// the short-lived client `run-now` uses.

#include "app/control_protocol.hpp"
#include "util/error.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace atlas_restored::app {

class control_server {
  public:
    // caller: who is asking, as describe_caller() renders the kernel's SO_PEERCRED answer.
    using handler =
        std::function<control_response(const control_request& request, const std::string& caller)>;

    // Binds `socket_path` with mode 0600 (a stale socket file left by a crash is replaced; any
    // other kind of file there is an error) and starts accepting. Each connection gets 5 seconds
    // to send its line.
    static result<std::unique_ptr<control_server>> start(boost::asio::any_io_executor executor,
                                                         std::filesystem::path socket_path,
                                                         handler on_request);
    ~control_server();  // stop()
    control_server(const control_server&) = delete;
    control_server& operator=(const control_server&) = delete;

    // Stops accepting and removes the socket file. Connections being served finish on their own.
    void stop();
    const std::filesystem::path& path() const;

    struct state;

  private:
    explicit control_server(std::shared_ptr<state> s) : state_(std::move(s)) {}
    std::shared_ptr<state> state_;
};

// Sends one request to the daemon listening on `socket_path` and returns its answer. A daemon
// that is not running is errc::not_found with a message saying so; a socket the caller may not
// open is errc::io_failed naming it.
result<control_response> send_control_request(const std::filesystem::path& socket_path,
                                              const control_request& request,
                                              std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace atlas_restored::app
