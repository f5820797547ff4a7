#include "fake_atlas/faults.hpp"

#include <boost/json/parse.hpp>

#include <array>
#include <utility>

namespace atlas_restored::fake_atlas {

namespace {

constexpr std::array<std::pair<fault_kind, std::string_view>, 13> kind_names{{
    {fault_kind::status, "status"},
    {fault_kind::rate_limit, "rate_limit"},
    {fault_kind::stall, "stall"},
    {fault_kind::reset, "reset"},
    {fault_kind::close, "close"},
    {fault_kind::truncate, "truncate"},
    {fault_kind::wrong_hash, "wrong_hash"},
    {fault_kind::ambiguous_create, "ambiguous_create"},
    {fault_kind::job_broken, "job_broken"},
    {fault_kind::job_killed, "job_killed"},
    {fault_kind::delivery_failed, "delivery_failed"},
    {fault_kind::delivery_interrupted, "delivery_interrupted"},
    {fault_kind::expire_link, "expire_link"},
}};

error bad(std::string message) {
    return make_error(errc::invalid_input, std::move(message));
}

result<std::int64_t> integer_field(const boost::json::object& o, std::string_view name, std::int64_t min) {
    const auto* v = o.if_contains(name);
    if (v == nullptr || !v->is_int64()) {
        if (v != nullptr && v->is_uint64()) {
            return static_cast<std::int64_t>(v->as_uint64());
        }
        return bad("fault: " + std::string(name) + " must be an integer");
    }
    if (v->as_int64() < min) {
        return bad("fault: " + std::string(name) + " must be at least " + std::to_string(min));
    }
    return v->as_int64();
}

// The brief and the docs write wildcards as '…' too; both mean "any run of characters".
std::string normalise_pattern(std::string_view pattern) {
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern.substr(i, 3) == "\xE2\x80\xA6") {
            out += '*';
            i += 2;
        } else {
            out += pattern[i];
        }
    }
    return out;
}

}  // namespace

std::string_view to_string(fault_kind k) {
    for (const auto& [kind, name] : kind_names) {
        if (kind == k) {
            return name;
        }
    }
    return "unknown";
}

std::optional<fault_kind> parse_fault_kind(std::string_view name) {
    for (const auto& [kind, n] : kind_names) {
        if (n == name) {
            return kind;
        }
    }
    return std::nullopt;
}

result<fault_spec> parse_fault(const boost::json::value& v) {
    const auto* o = v.if_object();
    if (o == nullptr) {
        return bad("fault: expected a JSON object");
    }
    static constexpr std::array<std::string_view, 11> known{"kind",
                                                            "count",
                                                            "match",
                                                            "status",
                                                            "error_code",
                                                            "retry_after",
                                                            "delay_ms",
                                                            "bytes",
                                                            "process",
                                                            "job_id",
                                                            "index"};
    for (const auto& [key, value] : *o) {
        bool ok = false;
        for (auto k : known) {
            ok = ok || k == key;
        }
        if (!ok) {
            return bad("fault: unknown field " + std::string(key));
        }
    }
    fault_spec f;
    const auto* kind = o->if_contains("kind");
    if (kind == nullptr || !kind->is_string()) {
        return bad(
            "fault: kind is required (status, rate_limit, stall, reset, close, truncate, wrong_hash, "
            "ambiguous_create, job_broken, job_killed, delivery_failed, delivery_interrupted, expire_link)");
    }
    auto k = parse_fault_kind(std::string_view(kind->as_string()));
    if (!k) {
        return bad("fault: unknown kind " + std::string(kind->as_string()));
    }
    f.kind = *k;
    if (o->contains("count")) {
        auto c = integer_field(*o, "count", 1);
        if (!c) {
            return c.error();
        }
        f.count = static_cast<int>(std::min<std::int64_t>(*c, 1'000'000'000));
    }
    if (const auto* m = o->if_contains("match")) {
        if (!m->is_string()) {
            return bad("fault: match must be a string like \"GET /api/atlas/v2/*/restoreJobs\"");
        }
        f.match = normalise_pattern(m->as_string());
    }
    if (f.kind == fault_kind::rate_limit) {
        f.status = 429;
    }
    if (o->contains("status")) {
        auto s = integer_field(*o, "status", 100);
        if (!s) {
            return s.error();
        }
        if (*s > 599) {
            return bad("fault: status must be an HTTP status (100-599)");
        }
        f.status = static_cast<int>(*s);
    }
    if (const auto* e = o->if_contains("error_code")) {
        if (!e->is_string()) {
            return bad("fault: error_code must be a string");
        }
        f.error_code = e->as_string();
    }
    if (o->contains("retry_after")) {
        auto r = integer_field(*o, "retry_after", 0);
        if (!r) {
            return r.error();
        }
        f.retry_after = static_cast<int>(*r);
    } else if (f.kind == fault_kind::rate_limit) {
        f.retry_after = 1;
    }
    if (o->contains("delay_ms")) {
        auto d = integer_field(*o, "delay_ms", 0);
        if (!d) {
            return d.error();
        }
        f.delay = std::chrono::milliseconds(*d);
    } else if (f.kind == fault_kind::stall) {
        return bad("fault: stall needs delay_ms");
    }
    if (o->contains("bytes")) {
        auto b = integer_field(*o, "bytes", 0);
        if (!b) {
            return b.error();
        }
        f.bytes = static_cast<std::uint64_t>(*b);
    }
    if (const auto* p = o->if_contains("process")) {
        if (!p->is_bool()) {
            return bad("fault: process must be true or false");
        }
        f.process = p->as_bool();
    }
    if (const auto* j = o->if_contains("job_id")) {
        if (!j->is_string()) {
            return bad("fault: job_id must be a string");
        }
        f.job_id = std::string(j->as_string());
    }
    if (o->contains("index")) {
        auto i = integer_field(*o, "index", 0);
        if (!i) {
            return i.error();
        }
        f.index = static_cast<int>(*i);
    }
    return f;
}

result<std::vector<fault_spec>> parse_faults(std::string_view json_text) {
    boost::system::error_code ec;
    auto v = boost::json::parse(json_text, ec);
    if (ec) {
        return bad("fault: the body is not JSON (" + ec.message() + ")");
    }
    std::vector<fault_spec> out;
    if (const auto* a = v.if_array()) {
        for (const auto& item : *a) {
            auto f = parse_fault(item);
            if (!f) {
                return f.error();
            }
            out.push_back(std::move(*f));
        }
        return out;
    }
    auto f = parse_fault(v);
    if (!f) {
        return f.error();
    }
    out.push_back(std::move(*f));
    return out;
}

boost::json::object to_json(const fault_spec& f) {
    boost::json::object o;
    o["kind"] = to_string(f.kind);
    o["count"] = f.count;
    o["match"] = f.match.empty() ? std::string(default_match(f.kind)) : f.match;
    if (f.kind == fault_kind::status || f.kind == fault_kind::rate_limit) {
        o["status"] = f.status;
    }
    if (!f.error_code.empty()) {
        o["error_code"] = f.error_code;
    }
    if (f.retry_after) {
        o["retry_after"] = *f.retry_after;
    }
    if (f.delay.count() > 0) {
        o["delay_ms"] = f.delay.count();
    }
    if (f.kind == fault_kind::truncate) {
        o["bytes"] = f.bytes;
    }
    if (f.process) {
        o["process"] = true;
    }
    if (f.job_id) {
        o["job_id"] = *f.job_id;
    }
    if (f.index) {
        o["index"] = *f.index;
    }
    return o;
}

std::string_view default_match(fault_kind k) {
    switch (k) {
        case fault_kind::truncate:
        case fault_kind::wrong_hash:
        case fault_kind::expire_link:
            return "GET /backup/restore/*";
        case fault_kind::ambiguous_create:
        case fault_kind::job_broken:
        case fault_kind::job_killed:
        case fault_kind::delivery_failed:
        case fault_kind::delivery_interrupted:
            return "POST /api/atlas/v2/groups/*/restoreJobs";
        default:
            return "* *";
    }
}

bool glob_match(std::string_view pattern, std::string_view text) {
    // Iterative wildcard match with one backtrack point (enough for '*' only patterns).
    std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            mark = t;
        } else if (p < pattern.size() && pattern[p] == text[t]) {
            ++p;
            ++t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') {
        ++p;
    }
    return p == pattern.size();
}

bool fault_matches(const fault_spec& f, std::string_view method, std::string_view path) {
    std::string_view match = f.match.empty() ? default_match(f.kind) : std::string_view(f.match);
    std::string_view want_method = "*";
    std::string_view pattern = match;
    if (auto space = match.find(' '); space != std::string_view::npos) {
        want_method = match.substr(0, space);
        pattern = match.substr(space + 1);
        while (!pattern.empty() && pattern.front() == ' ') {
            pattern.remove_prefix(1);
        }
    }
    if (want_method != "*" && want_method != method) {
        return false;
    }
    return glob_match(pattern, path);
}

}  // namespace atlas_restored::fake_atlas
