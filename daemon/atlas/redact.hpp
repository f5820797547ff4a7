#pragma once
// Secrets in Atlas answers, for anything that prints or stores them: delivery.authValue, the
// deprecated delivery.url (its path embeds the download key) and delivery.urlV2 (signed; its query
// is dropped, the rest kept so a human can still tell which file it was).

#include "atlas/types.hpp"

#include <boost/json/value.hpp>

#include <string_view>

namespace atlas_restored::atlas {

inline constexpr std::string_view redacted_text = "REDACTED";

void redact_secrets(delivery& d);
void redact_secrets(restore_job& j);
void redact_secrets(page<restore_job>& p);

// Any JSON (a raw response, enveloped or not): every "authValue", "url" and "urlV2" string member,
// at any depth, is redacted the same way. Iterative, so no input depth can exhaust the stack.
void redact_secrets(boost::json::value& v);

}  // namespace atlas_restored::atlas
