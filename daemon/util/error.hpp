#pragma once
// The one error type of the project. Expected failures (an HTTP status, a bad answer, a timeout,
// a disk error) travel as values in result<T>; exceptions are for bugs and fatal start-up errors.

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace atlas_restored {

enum class errc {
    ok = 0,
    invalid_input,    // the caller asked for something the API would refuse; nothing was sent
    connect_failed,   // name resolution or TCP connect failed; nothing was sent
    tls_failed,       // certificate or host-name verification failed; never retried
    timeout,          // a deadline passed (connect, request or read)
    connection_lost,  // the peer closed or reset the connection mid-exchange
    http_status,      // a non-success status with no Atlas error body
    atlas_error,      // a non-success status with Atlas's error body (see error::atlas_error_code)
    rate_limited,     // 429, or an errorCode containing RATE_LIMITED; retry_after may be set
    bad_response,     // the answer is not the documented JSON, or is larger than the limit
    auth_failed,      // credentials refused after the one allowed refresh or re-challenge
    io_failed,        // a local file or disk operation failed
    not_found,        // the thing looked for does not exist
    cancelled,        // the operation was cancelled by shutdown
};

const boost::system::error_category& error_category() noexcept;
boost::system::error_code make_error_code(errc e) noexcept;

struct error {
    errc code = errc::ok;
    std::string message;           // one sentence for humans; never contains a secret
    int http_status = 0;           // 0 when no HTTP answer was received
    std::string atlas_error_code;  // Atlas "errorCode" when the body had one
    std::string detail;            // Atlas "detail"
    std::string reason;            // Atlas "reason"
    std::optional<std::chrono::seconds> retry_after;
    // True once the request bytes may have reached the server: a POST may then have taken effect
    // even though no answer arrived (the "ambiguous" case that must be reconciled, not retried).
    bool request_sent = false;
};

// "HTTP 429 RATE_LIMITED_TOKEN_BUCKET: Rate limit exceeded…" or the plain message.
std::string to_string(const error& e);

error make_error(errc code, std::string message);

// Needed by boost::system::result<T, error>::value() to report an unchecked error.
[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

template <class T>
using result = boost::system::result<T, error>;

}  // namespace atlas_restored

namespace boost::system {
template <>
struct is_error_code_enum<atlas_restored::errc> : std::true_type {};
}  // namespace boost::system
