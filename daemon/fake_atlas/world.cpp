#include "fake_atlas/world.hpp"

#include "fake_atlas/call.hpp"
#include "fake_atlas/codec.hpp"
#include "fake_atlas/detail.hpp"
#include "fake_atlas/json_text.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <openssl/rand.h>

#include <algorithm>
#include <cmath>

namespace atlas_restored::fake_atlas {

namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

constexpr const char* groups_prefix = "/api/atlas/v2/groups/{groupId}/clusters/{clusterName}";

struct route_match {
    route_kind kind = route_kind::unknown;
    std::string template_path;
};

route_match classify(std::string_view method, const std::vector<std::string>& s) {
    auto is = [&](std::size_t i, std::string_view v) { return i < s.size() && s[i] == v; };
    auto pick = [&](std::string_view want_method, route_kind kind, std::string path) {
        return route_match{method == want_method ? kind : route_kind::method_not_allowed, std::move(path)};
    };
    if (s.size() >= 8 && is(0, "api") && is(1, "atlas") && is(2, "v2") && is(3, "groups") &&
        is(5, "clusters")) {
        const std::string base = groups_prefix;
        const std::string& leaf = s[7];
        if (s.size() == 8 && leaf == "restoreJobs") {
            if (method == "POST") {
                return {route_kind::create_jobs, base + "/restoreJobs"};
            }
            return pick("GET", route_kind::list_jobs, base + "/restoreJobs");
        }
        if (s.size() == 9 && leaf == "restoreJobs") {
            return pick("GET", route_kind::get_job, base + "/restoreJobs/{jobId}");
        }
        if (s.size() == 8 && leaf == "snapshots") {
            return pick("GET", route_kind::list_snapshots, base + "/snapshots");
        }
        if (s.size() == 9 && leaf == "snapshots") {
            return pick("GET", route_kind::get_snapshot, base + "/snapshots/{snapshotId}");
        }
        if (s.size() == 8 && leaf == "backupCheckpoints") {
            return pick("GET", route_kind::list_checkpoints, base + "/backupCheckpoints");
        }
        if (s.size() == 9 && leaf == "backupCheckpoints") {
            return pick("GET", route_kind::get_checkpoint, base + "/backupCheckpoints/{checkpointId}");
        }
    }
    if (s.size() == 3 && is(0, "api") && is(1, "oauth") && is(2, "token")) {
        return pick("POST", route_kind::token, "/api/oauth/token");
    }
    if (s.size() == 3 && is(0, "api") && is(1, "oauth") && is(2, "revoke")) {
        return pick("POST", route_kind::revoke, "/api/oauth/revoke");
    }
    if (is(0, "backup") && is(1, "restore") && is(2, "v2") && is(3, "pull")) {
        if (s.size() == 6) {
            return pick("GET", route_kind::download_v2, "/backup/restore/v2/pull/{jobId}/{fileName}");
        }
        if (s.size() == 7) {
            return pick("GET", route_kind::download_v1, "/backup/restore/v2/pull/{jobId}/{key}/{fileName}");
        }
    }
    return {route_kind::unknown, "(unknown)"};
}

bool is_bool_text(const std::string& v) {
    return v == "true" || v == "false";
}

std::optional<std::int64_t> to_int(const std::string& v) {
    if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    return std::stoll(v);
}

http::reply control_json(int status, const json::value& body, bool pretty) {
    http::reply r;
    r.status = status;
    r.headers.push_back({"Content-Type", "application/json"});
    r.body = to_json_text(body, pretty);
    return r;
}

http::reply control_error(int status, std::string message) {
    json::object o;
    o["error"] = std::move(message);
    return control_json(status, o, false);
}

}  // namespace

world::world(world_options options, time_point start) : options_(std::move(options)) {
    file_size_ = archive(0, options_.file_bytes, "probe").size();
    for (const auto& k : options_.api_keys) {
        api_keys_.emplace(k.id, k);
    }
    for (const auto& a : options_.service_accounts) {
        service_accounts_.emplace(a.id, a);
    }
    for (const auto& spec : options_.clusters) {
        group_org_.emplace(spec.group_id, spec.org);
        cluster_model cl;
        cl.org = spec.org;
        cl.group_id = spec.group_id;
        cl.name = spec.name;
        cl.shards = spec.shards;
        cl.id = new_object_id(start - 24h * 365);
        if (spec.shards == 0) {
            cl.parts.push_back({cl.id, spec.name + "-shard-0", spec.name + "-shard-0", "REPLICA_SET", false});
        } else {
            for (int k = 0; k < spec.shards; ++k) {
                const std::string rs = spec.name + "-shard-" + std::to_string(k);
                cl.parts.push_back({new_object_id(start - 24h * 365), rs, rs, "REPLICA_SET", false});
            }
            const std::string cfg = spec.name + "-config-0";
            cl.parts.push_back(
                {new_object_id(start - 24h * 365), cfg, "config", "CONFIG_SERVER_REPLICA_SET", true});
        }
        // Completed snapshots every 6 hours up to an hour ago, and a newer one still being taken
        // (only listed with completed=false or all).
        const int n = options_.snapshots_per_cluster;
        for (int i = 0; i < n; ++i) {
            const time_point when = start - 1h - 6h * (n - 1 - i);
            snapshots_.push_back({new_object_id(when), spec.group_id, spec.name, when, true, i > 0});
        }
        snapshots_.push_back(
            {new_object_id(start - 5min), spec.group_id, spec.name, start - 5min, false, true});
        if (spec.shards > 0) {
            for (std::chrono::minutes ago : {std::chrono::minutes(120), std::chrono::minutes(30)}) {
                const time_point started = start - ago;
                checkpoints_.push_back(
                    {new_object_id(started), spec.group_id, spec.name, started, started + 1min});
            }
        }
        clusters_.emplace(std::make_pair(spec.group_id, spec.name), std::move(cl));
    }
    for (const auto& f : options_.faults) {
        faults_.push_back({f, f.count});
    }
}

void world::random_bytes(std::span<unsigned char> out) {
    if (options_.random) {
        options_.random(out);
        return;
    }
    for (auto& b : out) {
        b = static_cast<unsigned char>(fallback_rng_() & 0xff);
    }
}

std::string world::new_hex(std::size_t bytes) {
    std::vector<unsigned char> buf(bytes);
    random_bytes(buf);
    return hex_encode(buf);
}

std::string world::new_secret(std::size_t bytes) {
    std::vector<unsigned char> buf(bytes);
    random_bytes(buf);
    return base64url_encode(buf);
}

std::string world::new_object_id(time_point when) {
    // Like a MongoDB ObjectId: seconds, random bytes, a counter (unique even with a fixed seed).
    const auto secs = static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count());
    std::array<unsigned char, 12> b{};
    b[0] = static_cast<unsigned char>(secs >> 24);
    b[1] = static_cast<unsigned char>(secs >> 16);
    b[2] = static_cast<unsigned char>(secs >> 8);
    b[3] = static_cast<unsigned char>(secs);
    random_bytes(std::span(b).subspan(4, 5));
    const std::uint64_t n = ++id_counter_;
    b[9] = static_cast<unsigned char>(n >> 16);
    b[10] = static_cast<unsigned char>(n >> 8);
    b[11] = static_cast<unsigned char>(n);
    return hex_encode(b);
}

http::reply world::handle(const http::request& req, const request_context& ctx, time_point now) {
    now += clock_offset_;
    auto parsed = boost::urls::parse_origin_form(req.target);
    if (!parsed) {
        http::reply r;
        r.status = 400;
        r.headers.push_back({"Content-Type", "application/json"});
        r.body =
            json::serialize(detail::api_error(400, "INVALID_PARAMETER", "The request target is malformed."));
        return r;
    }
    const std::string path(parsed->encoded_path());
    if (path == "/_fake" || path.rfind("/_fake/", 0) == 0) {
        return control(req, now);
    }
    call c{req, ctx, now};
    c.path = path;
    for (auto seg : parsed->segments()) {
        c.segments.push_back(seg);
    }
    for (auto p : parsed->params()) {
        c.query.emplace(p.key, p.has_value ? p.value : std::string());
    }
    auto match = classify(req.method, c.segments);
    c.kind = match.kind;
    c.route = req.method + " " + match.template_path;
    c.envelope = c.query.count("envelope") && c.query["envelope"] == "true";
    c.pretty = c.query.count("pretty") && c.query["pretty"] == "true";
    ++counters_.requests;
    ++counters_.per_connection[ctx.connection_id];

    c.fault = take_fault(req.method, path);
    if (c.fault) {
        ++counters_.faults_applied;
    }
    http::reply r;
    const bool before = c.fault && !c.fault->process &&
                        (c.fault->kind == fault_kind::status || c.fault->kind == fault_kind::rate_limit ||
                         c.fault->kind == fault_kind::reset || c.fault->kind == fault_kind::close);
    if (before) {
        r = apply_fault_before(c, *c.fault);
    } else {
        r = dispatch(c);
        if (c.fault) {
            apply_fault_after(c, *c.fault, r);
        }
    }
    record(c, r);
    return r;
}

http::reply world::dispatch(call& c) {
    switch (c.kind) {
        case route_kind::create_jobs:
        case route_kind::list_jobs:
        case route_kind::get_job:
        case route_kind::list_snapshots:
        case route_kind::get_snapshot:
        case route_kind::list_checkpoints:
        case route_kind::get_checkpoint:
            return api(c);
        case route_kind::token:
            return token_endpoint(c);
        case route_kind::revoke:
            return revoke_endpoint(c);
        case route_kind::download_v1:
        case route_kind::download_v2:
            return download(c);
        case route_kind::method_not_allowed:
            return error_reply(c,
                               405,
                               "METHOD_NOT_ALLOWED",
                               "Method " + c.req.method + " is not allowed on " + c.path + ".");
        case route_kind::unknown:
            break;
    }
    return error_reply(c, 404, "RESOURCE_NOT_FOUND", "Cannot find resource " + c.path + ".");
}

http::reply world::api(call& c) {
    auto outcome = authenticate(c);
    if (!outcome.who) {
        return outcome.denial;
    }
    const principal& who = *outcome.who;
    const std::string& group_id = c.segments[4];
    const std::string& cluster_name = c.segments[6];
    if (!detail::is_hex24(group_id)) {
        return error_reply(
            c, 400, "INVALID_PARAMETER", "groupId " + group_id + " is not 24 hexadecimal digits.");
    }
    auto org = group_org_.find(group_id);
    if (org == group_org_.end()) {
        return error_reply(c, 404, "RESOURCE_NOT_FOUND", "No group with ID " + group_id + " exists.");
    }
    if (who.org != "*" && who.org != org->second) {
        // Atlas answers 401 when the credential's organisation does not own the project.
        return unauthorized(
            c, "Current user is not authorized to access group " + group_id + ".", std::nullopt);
    }
    if (auto limited = rate_limit(c, group_id)) {
        return *limited;
    }
    auto with_rate_headers = [&](http::reply r) {
        if (options_.rate_limit && c.rate_remaining) {
            r.headers.push_back({"RateLimit-Limit", std::to_string(options_.rate_limit->capacity)});
            r.headers.push_back(
                {"RateLimit-Remaining", std::to_string(static_cast<long long>(*c.rate_remaining))});
        }
        return r;
    };
    const std::string media = "application/vnd.atlas." + options_.api_version + "+json";
    auto accept = detail::header(c.req.headers, "Accept");
    if (!accept || !detail::has_media_type(*accept, media)) {
        return with_rate_headers(error_reply(
            c,
            406,
            "INVALID_VERSION_DATE",
            "Accept must be " + media + " (got " + std::string(accept.value_or("nothing")) + ")."));
    }
    // Query parameters, as the API description constrains them.
    page_params page;
    for (const auto& [name, value] : c.query) {
        std::string problem;
        if (name == "envelope" || name == "pretty" || name == "includeCount") {
            if (!is_bool_text(value)) {
                problem = "must be true or false";
            }
        } else if (name == "pageNum") {
            auto n = to_int(value);
            if (!n || *n < 1) {
                problem = "must be an integer of at least 1";
            } else {
                page.page_num = *n;
            }
        } else if (name == "itemsPerPage") {
            auto n = to_int(value);
            if (!n || *n < 1 || *n > 500) {
                problem = "must be an integer from 1 to 500";
            } else {
                page.items_per_page = *n;
            }
        } else if (name == "batchId" && c.kind == route_kind::list_jobs) {
            if (!detail::is_hex24(value)) {
                problem = "must be 24 hexadecimal digits";
            }
        } else if (name == "completed" && c.kind == route_kind::list_snapshots) {
            if (value != "all" && value != "true" && value != "false") {
                problem = "must be all, true or false";
            }
        }
        if (!problem.empty()) {
            return with_rate_headers(error_reply(
                c, 400, "INVALID_PARAMETER", "Invalid query parameter " + name + ": " + problem + "."));
        }
    }
    page.include_count = !c.query.count("includeCount") || c.query["includeCount"] == "true";
    if (!detail::is_cluster_name(cluster_name)) {
        return with_rate_headers(
            error_reply(c,
                        400,
                        "INVALID_PARAMETER",
                        "clusterName " + cluster_name + " does not match ^[a-zA-Z0-9][a-zA-Z0-9-]*$."));
    }
    const cluster_model* cl = find_cluster(group_id, cluster_name);
    if (cl == nullptr) {
        return with_rate_headers(
            error_reply(c,
                        404,
                        "CLUSTER_NOT_FOUND",
                        "No cluster named " + cluster_name + " exists in group " + group_id + "."));
    }
    switch (c.kind) {
        case route_kind::create_jobs:
            return with_rate_headers(create_jobs(c, *cl, who));
        case route_kind::list_jobs:
            return with_rate_headers(list_jobs(c, *cl, page));
        case route_kind::get_job:
            return with_rate_headers(get_job(c, *cl, c.segments[8]));
        case route_kind::list_snapshots:
            return with_rate_headers(list_snapshots(c, *cl, page));
        case route_kind::get_snapshot:
            return with_rate_headers(get_snapshot(c, *cl, c.segments[8]));
        case route_kind::list_checkpoints:
            return with_rate_headers(list_checkpoints(c, *cl, page));
        case route_kind::get_checkpoint:
            return with_rate_headers(get_checkpoint(c, *cl, c.segments[8]));
        default:
            break;
    }
    return error_reply(c, 404, "RESOURCE_NOT_FOUND", "Cannot find resource " + c.path + ".");
}

http::reply world::json_reply(const call& c, int status, json::value body, bool is_list) const {
    http::reply r;
    r.status = status;
    const bool ok = status < 400;
    if (c.envelope) {
        // "Endpoints that return a list of results use the results object as an envelope";
        // everything else is wrapped. The HTTP status is then always 200.
        if (is_list && body.is_object()) {
            json::object wrapped;
            wrapped["status"] = status;
            for (auto& [k, v] : body.as_object()) {
                wrapped[k] = v;
            }
            body = std::move(wrapped);
        } else {
            json::object wrapped;
            wrapped["status"] = status;
            wrapped["content"] = std::move(body);
            body = std::move(wrapped);
        }
        r.status = 200;
    }
    r.headers.push_back(
        {"Content-Type",
         ok ? "application/vnd.atlas." + options_.api_version + "+json" : "application/json"});
    r.body = to_json_text(body, c.pretty);
    return r;
}

http::reply world::error_reply(
    const call& c, int status, std::string_view error_code, std::string detail, bool envelope) const {
    if (envelope) {
        return json_reply(c, status, detail::api_error(status, error_code, detail), false);
    }
    http::reply r;
    r.status = status;
    r.headers.push_back({"Content-Type", "application/json"});
    r.body = to_json_text(detail::api_error(status, error_code, detail), c.pretty);
    return r;
}

http::reply world::list_reply(const call& c, std::vector<json::value> items, const page_params& p) const {
    const std::size_t total = items.size();
    const std::size_t first = std::min<std::size_t>(total, (p.page_num - 1) * p.items_per_page);
    const std::size_t last = std::min<std::size_t>(total, first + p.items_per_page);
    auto link = [&](std::optional<std::int64_t> page, const char* rel) {
        boost::urls::url u = *boost::urls::parse_origin_form(c.req.target);
        if (page) {
            u.params().set("pageNum", std::to_string(*page));
        }
        json::object l;
        l["href"] = options_.base_url + std::string(u.buffer());
        l["rel"] = rel;
        return l;
    };
    json::array links;
    links.push_back(link(std::nullopt, "self"));
    if (last < total) {
        links.push_back(link(p.page_num + 1, "next"));
    }
    if (p.page_num > 1) {
        links.push_back(link(p.page_num - 1, "previous"));
    }
    json::array results;
    for (std::size_t i = first; i < last; ++i) {
        results.push_back(std::move(items[i]));
    }
    json::object body;
    body["links"] = std::move(links);
    body["results"] = std::move(results);
    if (p.include_count) {
        body["totalCount"] = total;
    }
    return json_reply(c, 200, std::move(body), true);
}

std::optional<fault_spec> world::take_fault(std::string_view method, std::string_view path) {
    for (auto it = faults_.begin(); it != faults_.end(); ++it) {
        if (it->remaining > 0 && fault_matches(it->spec, method, path)) {
            fault_spec spec = it->spec;
            if (--it->remaining == 0) {
                faults_.erase(it);
            }
            return spec;
        }
    }
    return std::nullopt;
}

http::reply world::apply_fault_before(call& c, const fault_spec& f) {
    http::reply r;
    switch (f.kind) {
        case fault_kind::reset:
            r.inject = http::fault::reset;
            return r;
        case fault_kind::close:
            r.inject = http::fault::close_without_reply;
            return r;
        default:
            break;
    }
    const int status = f.status;
    std::string code = f.error_code;
    std::string detail_text = "Injected fault: HTTP " + std::to_string(status) + ".";
    if (code.empty()) {
        code = status == 429   ? "RATE_LIMITED_TOKEN_BUCKET"
               : status == 503 ? "SERVICE_UNAVAILABLE"
               : status == 400 ? "VALIDATION_ERROR"
               : status >= 500 ? "UNEXPECTED_ERROR"
                               : "UNEXPECTED_ERROR";
    }
    if (status == 429) {
        ++counters_.rate_limited;
        detail_text = "Rate limit exceeded for " + c.path + ". Please retry after " +
                      std::to_string(f.retry_after.value_or(1)) + " seconds.";
    }
    r = error_reply(c, status, code, detail_text, false);
    if (f.retry_after) {
        r.headers.push_back({"Retry-After", std::to_string(*f.retry_after)});
    }
    return r;
}

void world::apply_fault_after(call& c, const fault_spec& f, http::reply& r) {
    switch (f.kind) {
        case fault_kind::stall:
            r.delay = f.delay;
            break;
        case fault_kind::truncate:
            r.inject = http::fault::truncate_body;
            r.truncate_after = f.bytes;
            break;
        case fault_kind::reset:
            r.inject = http::fault::reset;
            break;
        case fault_kind::close:
        case fault_kind::ambiguous_create:
            r.inject = http::fault::close_without_reply;
            break;
        case fault_kind::status:
        case fault_kind::rate_limit:
            r = apply_fault_before(c, f);
            break;  // with `process`: it took effect
        default:
            break;  // the job kinds were applied by the handlers
    }
    if (f.delay.count() > 0 && f.kind != fault_kind::stall) {
        r.delay = f.delay;
    }
}

void world::apply_job_fault(const fault_spec& f, job_model& j, time_point now, bool immediate) {
    // Matched on a create, a fate plays out when the job would finish; matched on a later request
    // (or given a job_id), it applies now.
    auto settle = [&] {
        if (immediate) {
            j.finishes = std::min(j.finishes, now);
        }
    };
    switch (f.kind) {
        case fault_kind::job_broken:
            j.final_status = "BROKEN";
            settle();
            break;
        case fault_kind::job_killed:
            j.final_status = "KILLED";
            settle();
            break;
        case fault_kind::delivery_failed:
            j.final_delivery = "FAILED";
            settle();
            break;
        case fault_kind::delivery_interrupted:
            j.final_delivery = "INTERRUPTED";
            settle();
            break;
        case fault_kind::expire_link:
            j.expires_override = immediate ? now : j.finishes;
            break;
        case fault_kind::wrong_hash:
            j.always_wrong_hash = true;
            if (j.recorded_hash) {
                j.recorded_hash = wrong_hash_of(*j.recorded_hash);
            }
            break;
        default:
            break;
    }
}

result<void> world::add_faults(const std::vector<fault_spec>& faults, time_point now) {
    now += clock_offset_;
    for (const auto& f : faults) {
        if (f.job_id) {
            auto it = jobs_.find(*f.job_id);
            if (it == jobs_.end()) {
                return make_error(errc::not_found, "fault: no restore job " + *f.job_id);
            }
            switch (f.kind) {
                case fault_kind::job_broken:
                case fault_kind::job_killed:
                case fault_kind::delivery_failed:
                case fault_kind::delivery_interrupted:
                case fault_kind::expire_link:
                case fault_kind::wrong_hash:
                    break;
                default:
                    return make_error(errc::invalid_input, "fault: job_id only goes with the job kinds");
            }
        }
    }
    for (const auto& f : faults) {
        if (f.job_id) {
            apply_job_fault(f, jobs_.at(*f.job_id), now, true);
        } else {
            faults_.push_back({f, f.count});
        }
    }
    return {};
}

void world::record(const call& c, const http::reply& r) {
    const bool answered = r.inject != http::fault::close_without_reply && r.inject != http::fault::reset;
    ++counters_.by_route[c.route];
    if (answered) {
        ++counters_.by_status[r.status];
    }
    if (options_.request_log_limit == 0) {
        return;
    }
    log_entry e;
    e.seq = ++log_seq_;
    e.at = c.now;
    e.connection_id = c.ctx.connection_id;
    e.request_index = c.ctx.request_index;
    e.method = c.req.method;
    e.target = c.req.target;
    if (c.kind == route_kind::download_v1) {
        // The deprecated URL carries the key in its path: never log it.
        e.target = "/backup/restore/v2/pull/" + c.segments[4] + "/REDACTED/" + c.segments[6];
        if (auto q = c.req.target.find('?'); q != std::string::npos) {
            e.target += c.req.target.substr(q);
        }
    }
    e.route = c.route;
    for (const auto& h : c.req.headers) {
        if (iequals(h.name, "Authorization")) {
            auto split = split_authorization(h.value);
            e.headers.emplace_back("Authorization",
                                   (split ? split->scheme + " " : std::string()) + "REDACTED");
        } else if (iequals(h.name, options_.download_auth_header)) {
            e.headers.emplace_back(h.name, "REDACTED");
        } else if (iequals(h.name, "Accept") || iequals(h.name, "Content-Type") || iequals(h.name, "Range") ||
                   iequals(h.name, "If-Range") || iequals(h.name, "User-Agent")) {
            e.headers.emplace_back(h.name, h.value);
        }
    }
    e.status = answered ? r.status : 0;
    e.auth = c.auth;
    e.digest_nc = c.digest_nc;
    if (c.fault) {
        e.fault = std::string(to_string(c.fault->kind));
    }
    log_.push_back(std::move(e));
    while (log_.size() > options_.request_log_limit) {
        log_.pop_front();
    }
}

void world::reset_counters() {
    counters_ = counters_model{};
    log_.clear();
}

json::object world::counters_json() const {
    const auto& k = counters_;
    json::object o;
    o["requests_total"] = k.requests;
    json::object routes;
    for (const auto& [route, n] : k.by_route) {
        routes[route] = n;
    }
    o["requests"] = std::move(routes);
    json::object statuses;
    for (const auto& [status, n] : k.by_status) {
        statuses[std::to_string(status)] = n;
    }
    o["responses"] = std::move(statuses);
    o["creates"] = k.creates;
    o["jobs_created"] = k.jobs_created;
    o["challenges_401"] = k.challenges;
    o["stale_nonces"] = k.stale_nonces;
    o["nc_replays"] = k.nc_replays;
    o["auth_failures"] = k.auth_failures;
    o["token_requests"] = k.token_requests;
    o["tokens_issued"] = k.tokens_issued;
    o["tls_connections"] = k.per_connection.size();
    json::object per_conn;
    std::uint64_t max_per_conn = 0;
    for (const auto& [id, n] : k.per_connection) {
        per_conn[std::to_string(id)] = n;
        max_per_conn = std::max(max_per_conn, n);
    }
    o["requests_per_connection"] = std::move(per_conn);
    o["max_requests_per_connection"] = max_per_conn;
    o["downloads_started"] = k.downloads_started;
    o["downloads_completed"] = k.downloads_completed;
    o["download_bytes"] = k.download_bytes;
    o["range_requests"] = k.range_requests;
    o["rate_limited_429"] = k.rate_limited;
    o["faults_applied"] = k.faults_applied;
    return o;
}

json::object world::request_log_json(std::uint64_t since) const {
    json::array entries;
    for (const auto& e : log_) {
        if (e.seq <= since) {
            continue;
        }
        json::object o;
        o["seq"] = e.seq;
        o["time"] = detail::iso8601(e.at);
        o["connection_id"] = e.connection_id;
        o["request_index"] = e.request_index;
        o["method"] = e.method;
        o["target"] = e.target;
        o["route"] = e.route;
        json::object headers;
        for (const auto& [name, value] : e.headers) {
            headers[name] = value;
        }
        o["headers"] = std::move(headers);
        if (e.status == 0) {
            o["status"] = nullptr;
        } else {
            o["status"] = e.status;
        }
        o["auth"] = e.auth;
        if (e.digest_nc) {
            o["digest_nc"] = *e.digest_nc;
        }
        if (e.fault) {
            o["fault"] = *e.fault;
        }
        entries.push_back(std::move(o));
    }
    json::object out;
    out["requests"] = std::move(entries);
    out["last_seq"] = log_seq_;
    return out;
}

json::object world::jobs_json(time_point now) const {
    json::array list;
    std::vector<const job_model*> ordered;
    for (const auto& [id, j] : jobs_) {
        ordered.push_back(&j);
    }
    std::sort(ordered.begin(), ordered.end(), [](auto* a, auto* b) { return a->seq < b->seq; });
    for (const auto* j : ordered) {
        json::object o = render_job(*j, now);
        // Internal state the API does not show; never the download key.
        json::object fake;
        fake["downloads_used"] = j->downloads_used;
        fake["file_bytes"] = j->content ? j->content->size() : 0;
        fake["requested_method"] = j->requested_method;
        // When the job turns FINISHED (and its delivery READY), for latency measurements (bench/).
        fake["finishes_unix_ms"] =
            std::chrono::duration_cast<std::chrono::milliseconds>(j->finishes.time_since_epoch()).count();
        o["_fake"] = std::move(fake);
        if (auto* d = o["delivery"].if_object()) {
            for (const char* secret : {"authValue", "url", "urlV2"}) {
                if (d->contains(secret)) {
                    (*d)[secret] = "REDACTED";
                }
            }
        }
        list.push_back(std::move(o));
    }
    json::object out;
    out["jobs"] = std::move(list);
    return out;
}

http::reply world::control(const http::request& req, time_point now) {
    auto parsed = boost::urls::parse_origin_form(req.target);
    const std::string path(parsed->path());
    bool pretty = false;
    std::uint64_t since = 0;
    for (auto p : parsed->params()) {
        if (p.key == "pretty" && p.value == "true") {
            pretty = true;
        }
        if (p.key == "since") {
            since = to_int(p.value).value_or(0);
        }
    }
    const std::string& m = req.method;
    if (path == "/_fake/counters" && m == "GET") {
        return control_json(200, counters_json(), pretty);
    }
    if (path == "/_fake/requests" && m == "GET") {
        return control_json(200, request_log_json(since), pretty);
    }
    if (path == "/_fake/reset-counters" && m == "POST") {
        reset_counters();
        return control_json(200, json::object{{"reset", true}}, pretty);
    }
    if (path == "/_fake/jobs" && m == "GET") {
        return control_json(200, jobs_json(now), pretty);
    }
    if (path == "/_fake/health" && m == "GET") {
        return control_json(200, json::object{{"status", "ok"}}, pretty);
    }
    if (path == "/_fake/faults") {
        if (m == "POST") {
            auto faults = parse_faults(req.body);
            if (!faults) {
                return control_error(400, faults.error().message);
            }
            if (auto added = add_faults(*faults, now); !added) {
                return control_error(added.error().code == errc::not_found ? 404 : 400,
                                     added.error().message);
            }
            return control_json(200, json::object{{"queued", faults->size()}}, pretty);
        }
        if (m == "GET") {
            json::array list;
            for (const auto& f : faults_) {
                json::object o = to_json(f.spec);
                o["remaining"] = f.remaining;
                list.push_back(std::move(o));
            }
            return control_json(200, json::object{{"faults", std::move(list)}}, pretty);
        }
        if (m == "DELETE") {
            const std::size_t n = faults_.size();
            faults_.clear();
            return control_json(200, json::object{{"cleared", n}}, pretty);
        }
    }
    if (path == "/_fake/advance" && m == "POST") {
        boost::system::error_code ec;
        auto body = json::parse(req.body, ec);
        const json::value* seconds =
            ec || !body.is_object() ? nullptr : body.as_object().if_contains("seconds");
        if (seconds == nullptr || !(seconds->is_number())) {
            return control_error(400, "expected {\"seconds\": N}");
        }
        const double s = seconds->to_number<double>();
        if (!(s >= 0) || s > 1e9) {
            return control_error(400, "seconds must be between 0 and 1e9");
        }
        clock_offset_ += std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(s * 1000)));
        json::object o;
        o["offset_seconds"] = static_cast<double>(clock_offset_.count()) / 1000.0;
        o["now"] = detail::iso8601(
            now + std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(s * 1000))));
        return control_json(200, o, pretty);
    }
    return control_error(404, "unknown control endpoint " + m + " " + path);
}

std::vector<std::string> world::snapshot_ids(const std::string& group_id, const std::string& cluster) const {
    std::vector<std::string> out;
    for (const auto& s : snapshots_) {
        if (s.group_id == group_id && s.cluster_name == cluster) {
            out.push_back(s.id);
        }
    }
    return out;
}

std::vector<std::string> world::checkpoint_ids(const std::string& group_id,
                                               const std::string& cluster) const {
    std::vector<std::string> out;
    for (const auto& k : checkpoints_) {
        if (k.group_id == group_id && k.cluster_name == cluster) {
            out.push_back(k.id);
        }
    }
    return out;
}

const cluster_model* world::find_cluster(const std::string& group_id, const std::string& name) const {
    auto it = clusters_.find({group_id, name});
    return it == clusters_.end() ? nullptr : &it->second;
}

}  // namespace atlas_restored::fake_atlas
