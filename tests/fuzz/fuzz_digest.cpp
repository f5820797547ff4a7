// The Digest challenge (client side) and Authorization (fake Atlas side) parsers.
#include "atlas/digest.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace atlas_restored::atlas;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto challenge = parse_digest_challenge(text)) {
        digest_session session;
        if (session.accept_challenge(*challenge)) {
            (void)session.authorization("GET", "/x", "user", "password", "0a4f113b");
        }
    }
    (void)parse_digest_authorization(text);
    return 0;
}
