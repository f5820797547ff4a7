#include "util/error.hpp"

#include <stdexcept>

namespace atlas_restored {
namespace {

class category final : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "atlas_restored"; }
    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
            case errc::ok:
                return "success";
            case errc::invalid_input:
                return "invalid input";
            case errc::connect_failed:
                return "connect failed";
            case errc::tls_failed:
                return "TLS verification failed";
            case errc::timeout:
                return "timed out";
            case errc::connection_lost:
                return "connection lost";
            case errc::http_status:
                return "unexpected HTTP status";
            case errc::atlas_error:
                return "Atlas API error";
            case errc::rate_limited:
                return "rate limited";
            case errc::bad_response:
                return "malformed response";
            case errc::auth_failed:
                return "authentication failed";
            case errc::io_failed:
                return "I/O error";
            case errc::not_found:
                return "not found";
            case errc::cancelled:
                return "cancelled";
        }
        return "unknown error";
    }
};

}  // namespace

const boost::system::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

std::string to_string(const error& e) {
    std::string out;
    if (e.http_status != 0) {
        out += "HTTP " + std::to_string(e.http_status) + " ";
    }
    if (!e.atlas_error_code.empty()) {
        out += e.atlas_error_code + ": " + (e.detail.empty() ? e.message : e.detail);
        return out;
    }
    out += e.message.empty() ? make_error_code(e.code).message() : e.message;
    return out;
}

error make_error(errc code, std::string message) {
    error e;
    e.code = code;
    e.message = std::move(message);
    return e;
}

void throw_exception_from_error(const error& e, const boost::source_location&) {
    throw std::runtime_error(to_string(e));
}

}  // namespace atlas_restored
