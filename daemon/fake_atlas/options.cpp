#include "fake_atlas/options.hpp"

#include <boost/json/value.hpp>

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <map>
#include <set>

namespace atlas_restored::fake_atlas {

namespace {

error bad(std::string message) {
    return make_error(errc::invalid_input, std::move(message));
}

bool is_hex24(std::string_view s) {
    if (s.size() != 24) {
        return false;
    }
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

bool is_cluster_name(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && !(i > 0 && c == '-')) {
            return false;
        }
    }
    return true;
}

result<std::int64_t> parse_int(std::string_view text,
                               std::string_view what,
                               std::int64_t min,
                               std::int64_t max) {
    if (text.empty()) {
        return bad(std::string(what) + ": expected a number");
    }
    std::int64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return bad(std::string(what) + ": expected a whole number, got '" + std::string(text) + "'");
        }
        v = v * 10 + (c - '0');
        if (v > max) {
            return bad(std::string(what) + ": at most " + std::to_string(max));
        }
    }
    if (v < min) {
        return bad(std::string(what) + ": at least " + std::to_string(min));
    }
    return v;
}

result<double> parse_number(std::string_view text, std::string_view what) {
    std::string s(text);
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v < 0) {
        return bad(std::string(what) + ": expected a non-negative number, got '" + s + "'");
    }
    return v;
}

result<std::chrono::seconds> parse_whole_seconds(std::string_view text, std::string_view what) {
    auto d = parse_duration(text);
    if (!d) {
        return bad(std::string(what) + ": " + d.error().message);
    }
    if (d->count() % 1000 != 0) {
        return bad(std::string(what) + ": whole seconds only");
    }
    return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

// YAML scalars and collections as JSON, for the faults list (same parser as the control API).
boost::json::value to_json(const YAML::Node& n) {
    if (n.IsMap()) {
        boost::json::object o;
        for (const auto& kv : n) {
            o[kv.first.as<std::string>()] = to_json(kv.second);
        }
        return o;
    }
    if (n.IsSequence()) {
        boost::json::array a;
        for (const auto& item : n) {
            a.push_back(to_json(item));
        }
        return a;
    }
    if (n.IsNull()) {
        return nullptr;
    }
    const std::string s = n.as<std::string>();
    if (n.Tag() != "!") {  // unquoted: numbers and booleans keep their type
        if (s == "true" || s == "false") {
            return s == "true";
        }
        if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s.size() < 19) {
            return std::stoll(s);
        }
    }
    return boost::json::string(s);
}

struct option_reader {
    const std::vector<std::string>& args;
    std::size_t i = 0;
    result<std::string> value(const std::string& name) {
        if (i + 1 >= args.size()) {
            return bad(name + " needs a value");
        }
        return args[++i];
    }
};

std::string where(const std::string& file, const YAML::Node& n) {
    return file + ":" + std::to_string(n.Mark().line + 1);
}

result<void> read_credentials(const std::string& file,
                              const YAML::Node& list,
                              const std::string& org,
                              bool api_key,
                              std::vector<credential_spec>& out) {
    if (!list.IsSequence()) {
        return bad(where(file, list) + ": expected a list");
    }
    const char* id_key = api_key ? "public_key" : "client_id";
    const char* secret_key = api_key ? "private_key" : "secret";
    for (const auto& item : list) {
        if (item.IsScalar()) {
            auto c = parse_credential(item.as<std::string>(), org, api_key ? "api key" : "service account");
            if (!c) {
                return bad(where(file, item) + ": " + c.error().message);
            }
            out.push_back(*c);
            continue;
        }
        if (!item.IsMap() || !item[id_key] || !item[secret_key]) {
            return bad(where(file, item) + ": expected \"ID:SECRET\" or {" + id_key + ", " + secret_key +
                       ", org}");
        }
        credential_spec c;
        c.org = item["org"] ? item["org"].as<std::string>() : org;
        c.id = item[id_key].as<std::string>();
        c.secret = item[secret_key].as<std::string>();
        out.push_back(std::move(c));
    }
    return {};
}

result<void> read_clusters(const std::string& file,
                           const YAML::Node& list,
                           const std::string& org,
                           std::vector<cluster_spec>& out) {
    if (!list.IsSequence()) {
        return bad(where(file, list) + ": expected a list");
    }
    for (const auto& item : list) {
        if (item.IsScalar()) {
            auto c = parse_cluster(item.as<std::string>(), org);
            if (!c) {
                return bad(where(file, item) + ": " + c.error().message);
            }
            out.push_back(*c);
            continue;
        }
        if (!item.IsMap() || !item["group_id"] || !item["name"]) {
            return bad(where(file, item) +
                       ": expected \"GROUPID/NAME:replicaset\" or {group_id, name, type, shards, org}");
        }
        cluster_spec c;
        c.org = item["org"] ? item["org"].as<std::string>() : org;
        c.group_id = item["group_id"].as<std::string>();
        c.name = item["name"].as<std::string>();
        std::string type = item["type"] ? item["type"].as<std::string>() : "replicaset";
        if (type == "sharded") {
            auto n = parse_int(item["shards"] ? item["shards"].as<std::string>() : "", "shards", 1, 64);
            if (!n) {
                return bad(where(file, item) + ": " + n.error().message);
            }
            c.shards = static_cast<int>(*n);
        } else if (type != "replicaset") {
            return bad(where(file, item) + ": type must be replicaset or sharded");
        }
        out.push_back(std::move(c));
    }
    return {};
}

result<void> read_org_section(const std::string& file,
                              const YAML::Node& node,
                              const std::string& org,
                              program_options& into) {
    if (node["clusters"]) {
        if (auto r = read_clusters(file, node["clusters"], org, into.world.clusters); !r) {
            return r;
        }
    }
    if (node["api_keys"]) {
        if (auto r = read_credentials(file, node["api_keys"], org, true, into.world.api_keys); !r) {
            return r;
        }
    }
    if (node["service_accounts"]) {
        if (auto r =
                read_credentials(file, node["service_accounts"], org, false, into.world.service_accounts);
            !r) {
            return r;
        }
    }
    return {};
}

// Options shared by the command line (--name VALUE) and the file (name: VALUE).
result<bool> apply_setting(const std::string& name, const std::string& v, program_options& p) {
    auto& w = p.world;
    if (name == "job-seconds") {
        auto d = parse_duration(v);
        if (!d) {
            return d.error();
        }
        w.job_duration = *d;
    } else if (name == "speed") {
        auto s = parse_number(v, "--speed");
        if (!s) {
            return s.error();
        }
        if (*s <= 0) {
            return bad("--speed: must be more than 0");
        }
        p.speed = *s;
    } else if (name == "file-bytes") {
        auto s = parse_size(v);
        if (!s) {
            return s.error();
        }
        w.file_bytes = *s;
    } else if (name == "link-ttl") {
        auto s = parse_whole_seconds(v, "--link-ttl");
        if (!s) {
            return s.error();
        }
        w.link_ttl = *s;
    } else if (name == "nonce-ttl") {
        auto s = parse_whole_seconds(v, "--nonce-ttl");
        if (!s) {
            return s.error();
        }
        w.nonce_ttl = *s;
    } else if (name == "token-ttl") {
        auto s = parse_whole_seconds(v, "--token-ttl");
        if (!s) {
            return s.error();
        }
        w.token_ttl = *s;
    } else if (name == "max-tokens") {
        auto n = parse_int(v, "--max-tokens", 1, 1'000'000);
        if (!n) {
            return n.error();
        }
        w.max_tokens_per_account = static_cast<int>(*n);
    } else if (name == "token-requests-per-minute") {
        auto n = parse_int(v, "--token-requests-per-minute", 1, 1'000'000);
        if (!n) {
            return n.error();
        }
        w.token_requests_per_minute = static_cast<int>(*n);
    } else if (name == "rate-capacity") {
        auto n = parse_int(v, "--rate-capacity", 1, 1'000'000);
        if (!n) {
            return n.error();
        }
        if (!w.rate_limit) {
            w.rate_limit = rate_limit_spec{0, 60};
        }
        w.rate_limit->capacity = static_cast<int>(*n);
    } else if (name == "rate-refill-per-minute") {
        auto r = parse_number(v, "--rate-refill-per-minute");
        if (!r) {
            return r.error();
        }
        if (*r <= 0) {
            return bad("--rate-refill-per-minute: must be more than 0");
        }
        if (!w.rate_limit) {
            w.rate_limit = rate_limit_spec{0, 60};
        }
        w.rate_limit->refill_per_minute = *r;
    } else if (name == "snapshots") {
        auto n = parse_int(v, "--snapshots", 1, 100);
        if (!n) {
            return n.error();
        }
        w.snapshots_per_cluster = static_cast<int>(*n);
    } else if (name == "api-version") {
        w.api_version = v;
    } else if (name == "auth-header") {
        w.download_auth_header = v;
    } else if (name == "request-log-limit") {
        auto n = parse_int(v, "--request-log-limit", 0, 100'000'000);
        if (!n) {
            return n.error();
        }
        w.request_log_limit = static_cast<std::size_t>(*n);
    } else if (name == "listen") {
        p.listen = v;
    } else if (name == "tls-dir") {
        p.tls_dir = v;
    } else if (name == "port-file") {
        p.port_file = v;
    } else if (name == "public-host") {
        p.public_host = v;
    } else {
        return false;
    }
    return true;
}

}  // namespace

result<cluster_spec> parse_cluster(std::string_view text, const std::string& org) {
    const std::string form =
        "cluster '" + std::string(text) + "': expected GROUPID/NAME:replicaset or GROUPID/NAME:sharded:N";
    auto slash = text.find('/');
    if (slash == std::string_view::npos) {
        return bad(form);
    }
    cluster_spec c;
    c.org = org;
    c.group_id = std::string(text.substr(0, slash));
    std::string_view rest = text.substr(slash + 1);
    auto colon = rest.find(':');
    c.name = std::string(rest.substr(0, colon));
    std::string_view type = colon == std::string_view::npos ? "replicaset" : rest.substr(colon + 1);
    if (!is_hex24(c.group_id)) {
        return bad(form + " (GROUPID is 24 lower-case hex digits)");
    }
    if (!is_cluster_name(c.name)) {
        return bad(form + " (NAME: letters, digits and '-', not starting with '-')");
    }
    if (type == "replicaset") {
        c.shards = 0;
    } else if (type.substr(0, 8) == "sharded:") {
        auto n = parse_int(type.substr(8), "shards", 1, 64);
        if (!n) {
            return bad(form + " (" + n.error().message + ")");
        }
        c.shards = static_cast<int>(*n);
    } else {
        return bad(form);
    }
    return c;
}

result<credential_spec> parse_credential(std::string_view text,
                                         const std::string& org,
                                         std::string_view what) {
    auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
        return bad(std::string(what) + ": expected ID:SECRET");
    }
    return credential_spec{org, std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
}

result<std::uint64_t> parse_size(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
        ++digits;
    }
    auto n = parse_int(text.substr(0, digits), "size", 0, std::int64_t(1) << 50);
    if (!n) {
        return bad("size '" + std::string(text) +
                   "': expected a number of bytes like 1048576, 64KiB, 1M or 2GiB");
    }
    std::string_view unit = text.substr(digits);
    std::uint64_t mult = 1;
    if (unit.empty() || unit == "B") {
        mult = 1;
    } else if (unit == "K" || unit == "KiB" || unit == "k") {
        mult = 1ull << 10;
    } else if (unit == "M" || unit == "MiB") {
        mult = 1ull << 20;
    } else if (unit == "G" || unit == "GiB") {
        mult = 1ull << 30;
    } else {
        return bad("size '" + std::string(text) + "': unknown unit (B, KiB, MiB, GiB)");
    }
    return static_cast<std::uint64_t>(*n) * mult;
}

result<std::chrono::milliseconds> parse_duration(std::string_view text) {
    double scale = 1000;  // plain numbers are seconds
    if (text.size() > 2 && text.substr(text.size() - 2) == "ms") {
        scale = 1;
        text.remove_suffix(2);
    } else if (!text.empty() && text.back() == 's') {
        text.remove_suffix(1);
    } else if (!text.empty() && text.back() == 'm') {
        scale = 60'000;
        text.remove_suffix(1);
    } else if (!text.empty() && text.back() == 'h') {
        scale = 3'600'000;
        text.remove_suffix(1);
    }
    auto v = parse_number(text, "duration");
    if (!v) {
        return bad("duration '" + std::string(text) + "': expected seconds like 3, 0.5, 250ms, 5m");
    }
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(*v * scale)));
}

result<program_options> parse_command_line(const std::vector<std::string>& args) {
    program_options p;
    std::string org = default_org;
    option_reader r{args};
    for (; r.i < args.size(); ++r.i) {
        std::string arg = args[r.i];
        std::optional<std::string> inline_value;
        if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            inline_value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        }
        auto value = [&]() -> result<std::string> {
            if (inline_value) {
                return *inline_value;
            }
            return r.value(arg);
        };
        if (arg == "--help" || arg == "-h") {
            p.help = true;
        } else if (arg == "--version") {
            p.version = true;
        } else if (arg == "--generate-ca") {
            p.generate_ca = true;
        } else if (arg == "--no-auth") {
            p.world.no_auth = true;
        } else if (arg == "--verbose" || arg == "-v") {
            p.verbose = true;
        } else if (arg == "--org") {
            auto v = value();
            if (!v) {
                return v.error();
            }
            if (v->empty()) {
                return bad("--org needs a name");
            }
            org = *v;
        } else if (arg == "--cluster") {
            auto v = value();
            if (!v) {
                return v.error();
            }
            auto c = parse_cluster(*v, org);
            if (!c) {
                return c.error();
            }
            p.world.clusters.push_back(*c);
        } else if (arg == "--api-key" || arg == "--service-account") {
            auto v = value();
            if (!v) {
                return v.error();
            }
            const bool key = arg == "--api-key";
            auto c = parse_credential(*v, org, key ? "--api-key" : "--service-account");
            if (!c) {
                return c.error();
            }
            (key ? p.world.api_keys : p.world.service_accounts).push_back(*c);
        } else if (arg == "--fault") {
            auto v = value();
            if (!v) {
                return v.error();
            }
            auto f = parse_faults(*v);
            if (!f) {
                return f.error();
            }
            p.world.faults.insert(p.world.faults.end(), f->begin(), f->end());
        } else if (arg == "--config") {
            auto v = value();
            if (!v) {
                return v.error();
            }
            if (auto loaded = load_config_file(*v, p); !loaded) {
                return loaded.error();
            }
        } else if (arg.rfind("--", 0) == 0) {
            auto v = value();
            if (!v) {
                return v.error();
            }
            auto applied = apply_setting(arg.substr(2), *v, p);
            if (!applied) {
                return applied.error();
            }
            if (!*applied) {
                return bad("unknown option " + arg + " (see --help)");
            }
        } else {
            return bad("unexpected argument '" + arg + "' (see --help)");
        }
    }
    p.world.job_duration = std::chrono::milliseconds(
        static_cast<std::int64_t>(std::llround(static_cast<double>(p.world.job_duration.count()) / p.speed)));
    return p;
}

result<void> load_config_file(const std::string& path, program_options& into) {
    YAML::Node root;
    try {
        root = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
        return bad(path + ": cannot read the file");
    } catch (const YAML::Exception& e) {
        return bad(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    if (!root.IsMap()) {
        return bad(path + ": expected a mapping of settings");
    }
    try {
        for (const auto& kv : root) {
            const std::string key = kv.first.as<std::string>();
            const YAML::Node& v = kv.second;
            if (key == "clusters" || key == "api_keys" || key == "service_accounts") {
                continue;  // read below, with the org sections
            }
            if (key == "orgs") {
                if (!v.IsSequence()) {
                    return bad(where(path, v) +
                               ": orgs: expected a list of {name, clusters, api_keys, service_accounts}");
                }
                for (const auto& org : v) {
                    if (!org.IsMap() || !org["name"]) {
                        return bad(where(path, org) + ": orgs: each entry needs a name");
                    }
                    if (auto r = read_org_section(path, org, org["name"].as<std::string>(), into); !r) {
                        return r;
                    }
                }
            } else if (key == "faults") {
                auto json = to_json(v);
                std::vector<boost::json::value> items;
                if (json.is_array()) {
                    items.assign(json.as_array().begin(), json.as_array().end());
                } else {
                    items.push_back(json);
                }
                for (const auto& item : items) {
                    auto f = parse_fault(item);
                    if (!f) {
                        return bad(where(path, v) + ": " + f.error().message);
                    }
                    into.world.faults.push_back(*f);
                }
            } else if (key == "no_auth") {
                into.world.no_auth = v.as<bool>();
            } else if (key == "rate_limit") {
                if (!v.IsMap() || !v["capacity"] || !v["refill_per_minute"]) {
                    return bad(where(path, v) + ": rate_limit: expected {capacity, refill_per_minute}");
                }
                for (const char* k : {"capacity", "refill_per_minute"}) {
                    std::string name =
                        k == std::string("capacity") ? "rate-capacity" : "rate-refill-per-minute";
                    auto applied = apply_setting(name, v[k].as<std::string>(), into);
                    if (!applied) {
                        return bad(where(path, v) + ": " + applied.error().message);
                    }
                }
            } else {
                std::string name = key;
                for (char& c : name) {
                    c = c == '_' ? '-' : c;
                }
                auto applied = apply_setting(name, v.as<std::string>(), into);
                if (!applied) {
                    return bad(where(path, v) + ": " + key + ": " + applied.error().message);
                }
                if (!*applied) {
                    return bad(where(path, kv.first) + ": unknown setting " + key);
                }
            }
        }
        if (auto r = read_org_section(path, root, default_org, into); !r) {
            return r;
        }
    } catch (const YAML::Exception& e) {
        return bad(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    return {};
}

result<void> validate(const world_options& w) {
    std::map<std::string, std::string> group_org;
    std::set<std::pair<std::string, std::string>> names;
    for (const auto& c : w.clusters) {
        if (!is_hex24(c.group_id) || !is_cluster_name(c.name)) {
            return bad("cluster " + c.group_id + "/" + c.name + ": bad group id or name");
        }
        auto [it, added] = group_org.emplace(c.group_id, c.org);
        if (!added && it->second != c.org) {
            return bad("group " + c.group_id + " is in two organisations (" + it->second + ", " + c.org +
                       ")");
        }
        if (!names.emplace(c.group_id, c.name).second) {
            return bad("cluster " + c.group_id + "/" + c.name + " is given twice");
        }
    }
    std::set<std::string> ids;
    for (const auto* list : {&w.api_keys, &w.service_accounts}) {
        for (const auto& c : *list) {
            if (!ids.insert(c.id).second) {
                return bad("credential " + c.id + " is given twice");
            }
        }
    }
    if (w.api_keys.empty() && w.service_accounts.empty() && !w.no_auth) {
        return bad(
            "no credentials: give --api-key PUBLIC:PRIVATE or --service-account ID:SECRET, or --no-auth");
    }
    if (w.no_auth && (!w.api_keys.empty() || !w.service_accounts.empty())) {
        return bad("--no-auth cannot be combined with credentials");
    }
    if (w.rate_limit && (w.rate_limit->capacity <= 0 || w.rate_limit->refill_per_minute <= 0)) {
        return bad("the rate limit needs both --rate-capacity and --rate-refill-per-minute");
    }
    return {};
}

std::string usage() {
    return R"(fake-atlas: plays MongoDB Atlas (legacy backup restore jobs) on 127.0.0.1 for demos and tests.

Usage: fake-atlas --tls-dir DIR [options]

Serving
  --listen ADDR:PORT          address to listen on (default 127.0.0.1:0, a free port)
  --tls-dir DIR               CA and server certificate directory (ca.pem, server.pem, server-key.pem)
  --generate-ca               create a fresh CA and server certificate in DIR (also done when missing)
  --port-file FILE            write the port number to FILE once listening
  --public-host HOST          host name used in links and download URLs (default: the listen address)
  --verbose                   one line per request on stderr (secrets redacted)

World
  --org NAME                  the following --cluster/--api-key/--service-account belong to NAME
                              (default organisation: "default")
  --cluster GROUPID/NAME:replicaset | GROUPID/NAME:sharded:N
  --api-key PUBLIC:PRIVATE    HTTP Digest credentials
  --service-account ID:SECRET OAuth client credentials for POST /api/oauth/token
  --no-auth                   accept API calls without credentials (no credentials may be given)
  --config FILE               YAML/JSON file with the same settings (see docs/fake-atlas.md)
  --snapshots N               completed snapshots per cluster (default 3)

Timing and content
  --job-seconds S             create -> FINISHED/READY (default 3; 0.5, 250ms, 2m accepted)
  --speed F                   divides --job-seconds (e.g. 10 = ten times faster)
  --file-bytes N              size of each restore file (default 1MiB; KiB/MiB/GiB suffixes)
  --link-ttl S                download links expire S seconds after the job finished
                              (default: the job's expirationHours)
  --nonce-ttl S               Digest nonce lifetime (default 300)
  --token-ttl S               service-account token lifetime (default 3600)
  --max-tokens N              live tokens per service account (default 100)
  --token-requests-per-minute N   token endpoint limit per client (default 50)
  --rate-capacity N --rate-refill-per-minute R   token bucket per group (default off)
  --api-version V             the one accepted media-type version (default 2023-01-01)
  --auth-header NAME          download auth header name (default X-Atlas-Restore-Key)
  --request-log-limit N       request log entries kept (default 10000)
  --fault JSON                queue a fault at start (same JSON as POST /_fake/faults)

  --help, --version

When ready it prints one line to stdout:
  fake-atlas listening on https://HOST:PORT ca=DIR/ca.pem
)";
}

}  // namespace atlas_restored::fake_atlas
