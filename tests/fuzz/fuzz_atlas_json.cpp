// Every Atlas response parser on arbitrary bytes, as a body with and without the envelope and
// under an error status: an error value is fine, a crash or UB is a finding.
#include "atlas/json.hpp"
#include "atlas/protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace atlas_restored;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    http::response response;
    response.status = size > 0 && data[0] % 2 == 0 ? 200 : 429;
    response.body.assign(reinterpret_cast<const char*>(data), size);
    response.headers.push_back({"Retry-After", response.body.substr(0, 16)});
    const auto now = std::chrono::system_clock::now();
    for (bool envelope : {false, true}) {
        atlas::api_settings settings;
        settings.envelope = envelope;
        (void)atlas::parse_restore_job_page(response, settings, now);
        (void)atlas::parse_restore_job(response, settings, now);
        (void)atlas::parse_snapshot_page(response, settings, now);
        (void)atlas::parse_checkpoint_page(response, settings, now);
    }
    (void)atlas::error_from_response(response, now);
    return 0;
}
