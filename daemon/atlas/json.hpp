#pragma once
// Boost.JSON conversions of the Atlas resources in types.hpp. Readers are strict about types (a
// number sent as a string is an error) and open-world about content (unknown fields and unknown
// enum strings are accepted). Every failure is errc::bad_response with a message naming the field
// by its API path, e.g. "restore job: field 'delivery.statusName' is not a string". They never
// throw and never recurse into the input beyond the documented shapes, so any JSON value is safe.
//
// Writers omit unset optionals and empty lists; they are used for POST bodies and by the fake
// Atlas. Note: a written restore_job or delivery contains the secrets (authValue, url, urlV2)
// when they are set; redact before printing.

#include "atlas/types.hpp"
#include "util/error.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace atlas_restored::atlas {

// Readers. `v` is the resource itself (not an envelope).
result<link> parse_link(const boost::json::value& v);
result<bson_timestamp> parse_bson_timestamp(const boost::json::value& v);
result<file_hash> parse_file_hash(const boost::json::value& v);
result<delivery> parse_delivery(const boost::json::value& v);
result<restore_job> parse_restore_job(const boost::json::value& v);  // requires id, delivery.methodName
result<delivery_request> parse_delivery_request(const boost::json::value& v);
result<create_restore_job_request> parse_create_restore_job_request(const boost::json::value& v);
result<snapshot_part> parse_snapshot_part(const boost::json::value& v);
result<snapshot> parse_snapshot(const boost::json::value& v);  // requires id
result<checkpoint_part> parse_checkpoint_part(const boost::json::value& v);
result<checkpoint> parse_checkpoint(const boost::json::value& v);  // requires id
result<api_error> parse_api_error(const boost::json::value& v);    // requires error, errorCode

// A paginated list {"results":[…],"totalCount":N,"links":[…]} (results required). A "status"
// member (envelope=true) is read into envelope_status.
result<page<restore_job>> parse_restore_job_page(const boost::json::value& v);
result<page<snapshot>> parse_snapshot_page(const boost::json::value& v);
result<page<checkpoint>> parse_checkpoint_page(const boost::json::value& v);

// Writers.
boost::json::object to_json(const link& l);
boost::json::object to_json(const bson_timestamp& t);
boost::json::object to_json(const file_hash& h);
boost::json::object to_json(const delivery& d);
boost::json::object to_json(const restore_job& j);
boost::json::object to_json(const delivery_request& d);
// The POST body: only the writable fields, with the API's exact names.
boost::json::object to_json(const create_restore_job_request& r);
boost::json::object to_json(const snapshot_part& p);
boost::json::object to_json(const snapshot& s);
boost::json::object to_json(const checkpoint_part& p);
boost::json::object to_json(const checkpoint& c);
boost::json::object to_json(const api_error& e);

// {"links":[…],"results":[…],"totalCount":N}; "status" too when envelope_status is set.
template <class T>
boost::json::object to_json(const page<T>& p) {
    boost::json::object out;
    boost::json::array links;
    for (const auto& l : p.links) {
        links.emplace_back(to_json(l));
    }
    out["links"] = std::move(links);
    boost::json::array results;
    for (const auto& r : p.results) {
        results.emplace_back(to_json(r));
    }
    out["results"] = std::move(results);
    if (p.total_count) {
        out["totalCount"] = *p.total_count;
    }
    if (p.envelope_status) {
        out["status"] = *p.envelope_status;
    }
    return out;
}

}  // namespace atlas_restored::atlas
