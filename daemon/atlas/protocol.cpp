#include "atlas/protocol.hpp"

#include "atlas/json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cctype>
#include <type_traits>
#include <utility>
#include <vector>

namespace atlas_restored::atlas {
namespace json = boost::json;

namespace {

using query_list = std::vector<std::pair<std::string_view, std::string>>;

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

std::optional<std::string_view> header_value(const http::header_list& headers, std::string_view name) {
    for (const auto& h : headers) {
        if (iequals(h.name, name)) {
            return std::string_view(h.value);
        }
    }
    return std::nullopt;
}

http::request make_request(const api_settings& settings,
                           std::string method,
                           std::string path,
                           query_list query) {
    if (settings.envelope) {
        query.emplace_back("envelope", "true");
    }
    if (settings.pretty) {
        query.emplace_back("pretty", "true");
    }
    http::request req;
    req.method = std::move(method);
    req.target = std::move(path);
    char separator = '?';
    for (const auto& [name, value] : query) {
        req.target += separator;
        req.target += name;
        req.target += '=';
        req.target += percent_encode(value);
        separator = '&';
    }
    req.headers.push_back({"Accept", media_type(settings)});
    return req;
}

query_list page_query(int page_num, int items_per_page) {
    return {{"pageNum", std::to_string(page_num)},
            {"itemsPerPage", std::to_string(items_per_page)},
            {"includeCount", "true"}};
}

bool is_success(int status) {
    return status >= 200 && status < 300;
}

result<json::value> parse_body(const http::response& response) {
    if (response.body.empty()) {
        return make_error(errc::bad_response, "the response body is empty");
    }
    // The default depth limit (32) bounds hostile nesting; parse errors are values, not throws.
    boost::system::error_code ec;
    json::value v = json::parse(response.body, ec);
    if (ec) {
        return make_error(errc::bad_response, "the response body is not valid JSON: " + ec.message());
    }
    return v;
}

error error_from_parts(int status,
                       const json::value* body,
                       const http::header_list& headers,
                       std::chrono::system_clock::time_point now) {
    error e;
    e.http_status = status;
    e.request_sent = status >= 500;
    if (auto value = header_value(headers, "Retry-After")) {
        e.retry_after = http::parse_retry_after(*value, now);
    }
    bool has_body = false;
    if (body != nullptr) {
        if (auto parsed = parse_api_error(*body)) {
            has_body = true;
            e.atlas_error_code = parsed->error_code;
            e.detail = parsed->detail;
            e.reason = parsed->reason;
        }
    }
    const bool rate_limited_code = e.atlas_error_code.find("RATE_LIMITED") != std::string::npos;
    if (status == 429 || rate_limited_code || (status == 503 && e.retry_after)) {
        e.code = errc::rate_limited;
    } else if (status == 401 || status == 403) {
        e.code = errc::auth_failed;
    } else if (has_body) {
        e.code = errc::atlas_error;
    } else {
        e.code = errc::http_status;
    }
    if (has_body) {
        e.message = !e.detail.empty() ? e.detail : !e.reason.empty() ? e.reason : e.atlas_error_code;
    } else if (e.code == errc::rate_limited) {
        e.message = "rate limited by Atlas";
    } else if (e.code == errc::auth_failed) {
        e.message = "Atlas refused the credentials";
    } else {
        e.message = "unexpected HTTP status without an Atlas error body";
    }
    return e;
}

// An enveloped error keeps its ApiError in "content"; tolerate it at the top level too.
const json::value* error_body_of(const json::value& body) {
    if (const json::object* o = body.if_object()) {
        if (auto it = o->find("content"); it != o->end() && it->value().is_object()) {
            return &it->value();
        }
    }
    return &body;
}

// Reads {"status":N,…}; nullopt when there is no status member.
result<std::optional<int>> envelope_status(const json::value& body) {
    const json::object* o = body.if_object();
    if (o == nullptr) {
        return make_error(errc::bad_response, "enveloped response: expected a JSON object");
    }
    auto it = o->find("status");
    if (it == o->end() || it->value().is_null()) {
        return std::optional<int>{};
    }
    const json::value& s = it->value();
    if (s.is_int64() && s.get_int64() >= 100 && s.get_int64() <= 999) {
        return std::optional<int>{static_cast<int>(s.get_int64())};
    }
    if (s.is_uint64() && s.get_uint64() >= 100 && s.get_uint64() <= 999) {
        return std::optional<int>{static_cast<int>(s.get_uint64())};
    }
    return make_error(errc::bad_response, "enveloped response: field 'status' is not an HTTP status");
}

enum class shape { list, single };

// The value holding the resource: the body itself, or what the envelope wraps. A failure, outer or
// enveloped, comes back as the error.
result<const json::value*> payload_of(const http::response& response,
                                      const json::value& body,
                                      const api_settings& settings,
                                      shape kind,
                                      std::chrono::system_clock::time_point now) {
    if (!settings.envelope) {
        return &body;
    }
    auto status = envelope_status(body);
    if (!status) {
        return status.error();
    }
    if (*status && !is_success(**status)) {
        return error_from_parts(**status, error_body_of(body), response.headers, now);
    }
    // Lists use the top-level object as the envelope; single resources sit in "content". Accept
    // either form for both, so a server that wraps differently still parses.
    const json::object& o = body.get_object();
    const auto content = o.find("content");
    const bool has_content = content != o.end() && content->value().is_object();
    if (kind == shape::list) {
        if (o.contains("results") || !has_content) {
            return &body;
        }
        return &content->value();
    }
    if (has_content) {
        return &content->value();
    }
    if (status->has_value()) {
        return make_error(errc::bad_response, "enveloped response: field 'content' is missing");
    }
    return &body;
}

template <class T, class Parse>
result<T> parse_response(const http::response& response,
                         const api_settings& settings,
                         std::chrono::system_clock::time_point now,
                         shape kind,
                         Parse parse) {
    if (!is_success(response.status)) {
        return error_from_response(response, now);
    }
    auto body = parse_body(response);
    if (!body) {
        error e = body.error();
        e.http_status = response.status;
        return e;
    }
    auto payload = payload_of(response, *body, settings, kind, now);
    if (!payload) {
        return payload.error();
    }
    auto parsed = parse(**payload);
    if (!parsed) {
        error e = parsed.error();
        e.http_status = response.status;
        return e;
    }
    if constexpr (!std::is_same_v<T, restore_job>) {
        // Keep the envelope's status even when the list was wrapped in "content".
        if (settings.envelope && !parsed->envelope_status) {
            if (auto s = envelope_status(*body); s && *s) {
                parsed->envelope_status = **s;
            }
        }
    }
    return parsed;
}

}  // namespace

std::string media_type(const api_settings& settings) {
    return "application/vnd.atlas." + settings.api_version + "+json";
}

std::string percent_encode(std::string_view value) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(value.size());
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 0x0f];
        }
    }
    return out;
}

std::string cluster_path(std::string_view group_id, std::string_view cluster_name) {
    return "/api/atlas/v2/groups/" + percent_encode(group_id) + "/clusters/" + percent_encode(cluster_name);
}

http::request build_create_restore_job(const api_settings& settings,
                                       std::string_view group_id,
                                       std::string_view cluster_name,
                                       const create_restore_job_request& body) {
    http::request req =
        make_request(settings, "POST", cluster_path(group_id, cluster_name) + "/restoreJobs", {});
    req.headers.push_back({"Content-Type", media_type(settings)});
    req.body = json::serialize(to_json(body));
    return req;
}

http::request build_list_restore_jobs(const api_settings& settings,
                                      std::string_view group_id,
                                      std::string_view cluster_name,
                                      std::optional<std::string> batch_id,
                                      int page_num,
                                      int items_per_page) {
    query_list query;
    if (batch_id) {
        query.emplace_back("batchId", std::move(*batch_id));
    }
    for (auto& q : page_query(page_num, items_per_page)) {
        query.push_back(std::move(q));
    }
    return make_request(
        settings, "GET", cluster_path(group_id, cluster_name) + "/restoreJobs", std::move(query));
}

http::request build_get_restore_job(const api_settings& settings,
                                    std::string_view group_id,
                                    std::string_view cluster_name,
                                    std::string_view job_id) {
    return make_request(
        settings, "GET", cluster_path(group_id, cluster_name) + "/restoreJobs/" + percent_encode(job_id), {});
}

http::request build_list_snapshots(const api_settings& settings,
                                   std::string_view group_id,
                                   std::string_view cluster_name,
                                   int page_num,
                                   int items_per_page) {
    query_list query{{"completed", "true"}};
    for (auto& q : page_query(page_num, items_per_page)) {
        query.push_back(std::move(q));
    }
    return make_request(
        settings, "GET", cluster_path(group_id, cluster_name) + "/snapshots", std::move(query));
}

http::request build_list_checkpoints(const api_settings& settings,
                                     std::string_view group_id,
                                     std::string_view cluster_name,
                                     int page_num,
                                     int items_per_page) {
    return make_request(settings,
                        "GET",
                        cluster_path(group_id, cluster_name) + "/backupCheckpoints",
                        page_query(page_num, items_per_page));
}

result<page<restore_job>> parse_restore_job_page(const http::response& response,
                                                 const api_settings& settings,
                                                 std::chrono::system_clock::time_point now) {
    return parse_response<page<restore_job>>(
        response, settings, now, shape::list, [](const json::value& v) { return parse_restore_job_page(v); });
}

result<restore_job> parse_restore_job(const http::response& response,
                                      const api_settings& settings,
                                      std::chrono::system_clock::time_point now) {
    return parse_response<restore_job>(
        response, settings, now, shape::single, [](const json::value& v) { return parse_restore_job(v); });
}

result<page<snapshot>> parse_snapshot_page(const http::response& response,
                                           const api_settings& settings,
                                           std::chrono::system_clock::time_point now) {
    return parse_response<page<snapshot>>(
        response, settings, now, shape::list, [](const json::value& v) { return parse_snapshot_page(v); });
}

result<page<checkpoint>> parse_checkpoint_page(const http::response& response,
                                               const api_settings& settings,
                                               std::chrono::system_clock::time_point now) {
    return parse_response<page<checkpoint>>(
        response, settings, now, shape::list, [](const json::value& v) { return parse_checkpoint_page(v); });
}

error error_from_response(const http::response& response, std::chrono::system_clock::time_point now) {
    boost::system::error_code ec;
    json::value body = response.body.empty() ? json::value() : json::parse(response.body, ec);
    const json::value* error_body = (ec || body.is_null()) ? nullptr : error_body_of(body);
    return error_from_parts(response.status, error_body, response.headers, now);
}

std::optional<int> next_page_number(bool has_next_link,
                                    std::size_t results_on_page,
                                    std::optional<std::int64_t> total_count,
                                    int current_page,
                                    int items_per_page) {
    if (current_page < 1 || items_per_page < 1 || current_page >= max_list_pages) {
        return std::nullopt;
    }
    // An empty page ends the walk even if a link or a count claims more: that is how a server that
    // keeps pointing "next" at nothing cannot keep us looping.
    if (results_on_page == 0) {
        return std::nullopt;
    }
    if (has_next_link) {
        return current_page + 1;
    }
    if (total_count) {
        const std::int64_t seen = static_cast<std::int64_t>(current_page) * items_per_page;
        return seen < *total_count ? std::optional<int>(current_page + 1) : std::nullopt;
    }
    if (results_on_page < static_cast<std::size_t>(items_per_page)) {
        return std::nullopt;
    }
    return current_page + 1;
}

}  // namespace atlas_restored::atlas
