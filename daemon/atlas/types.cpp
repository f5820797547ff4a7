#include "atlas/types.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace atlas_restored::atlas {
namespace {

template <std::size_t N>
bool is_one_of(const std::string& value, const std::array<std::string_view, N>& set) {
    return std::find(set.begin(), set.end(), value) != set.end();
}

// Unknown values (a newer server) are deliberately not terminal: waiting longer is safer than
// declaring a job over that may still deliver.
constexpr std::array<std::string_view, 3> terminal_job{
    job_status::broken, job_status::killed, job_status::finished};
constexpr std::array<std::string_view, 4> failed_delivery{delivery_status::failed,
                                                          delivery_status::interrupted,
                                                          delivery_status::expired,
                                                          delivery_status::max_downloads_exceeded};

}  // namespace

bool is_terminal_job_status(const std::string& status) {
    return is_one_of(status, terminal_job);
}

bool is_terminal_delivery_status(const std::string& status) {
    return status == delivery_status::ready || is_failed_delivery_status(status);
}

bool is_failed_delivery_status(const std::string& status) {
    return is_one_of(status, failed_delivery);
}

}  // namespace atlas_restored::atlas
