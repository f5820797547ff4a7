#pragma once
// The control channel of the running daemon (`run-now`): a Unix stream socket
// STATE_DIR/control.sock, mode 0600, one JSON line in and one JSON line out per connection.
//
//   {"command":"run-now","policy":"orders-drill"}      -> {"ok":true,"run_id":"r-…"}
//                                                      -> {"ok":false,"error":"unknown policy 'x'"}
//   {"command":"ping"}                                 -> {"ok":true,"pid":123,"active_runs":1,…}
//
// The caller's identity is never taken from the request: the daemon asks the kernel
// (SO_PEERCRED). Only a root caller may add "sudo_user" (from $SUDO_USER), recorded beside it.
// Pure encoding and decoding here; app/control_socket.* does the I/O.

#include "util/error.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace atlas_restored::app {

inline constexpr const char* control_socket_name = "control.sock";
// A request longer than this is refused without being parsed.
inline constexpr std::size_t max_control_line = 4096;

struct control_request {
    std::string command;  // "run-now" | "ping"
    std::string policy;   // run-now
    std::optional<std::string> sudo_user;
};

struct control_response {
    bool ok = false;
    std::string run_id;         // run-now
    std::string error;          // !ok
    boost::json::object extra;  // ping: pid, active_runs, …
};

// One line, without its newline. Errors (errc::invalid_input) say what is wrong with the request.
result<control_request> parse_control_request(std::string_view line);
std::string format_control_request(const control_request& request);  // with the trailing newline

result<control_response> parse_control_response(std::string_view line);
std::string format_control_response(const control_response& response);  // with the trailing newline

// What a run's `started_by` records for a control-socket caller: "alice", "uid 1234" when the
// uid has no name, "root (sudo: alice)" when root says it acts for a sudo user (any other uid
// cannot claim one).
std::string describe_caller(unsigned uid,
                            const std::optional<std::string>& user_name,
                            const std::optional<std::string>& sudo_user);

}  // namespace atlas_restored::app
