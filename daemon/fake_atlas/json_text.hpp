#pragma once
// JSON text as the fake Atlas writes it: compact by default, indented for `pretty=true`. The fake
// builds its documents by hand with the field names of the API description (never through the
// daemon's own JSON code), so it stays an independent check of the client.

#include <boost/json/value.hpp>

#include <string>

namespace atlas_restored::fake_atlas {

std::string to_json_text(const boost::json::value& v, bool pretty);

}  // namespace atlas_restored::fake_atlas
