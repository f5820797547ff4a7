#include "config/loader.hpp"

#include "atlas/types.hpp"
#include "atlas/validation.hpp"
#include "config/yaml_reader.hpp"
#include "schedule/time_zone.hpp"

#include <boost/url/parse.hpp>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <glob.h>
#include <set>
#include <sstream>
#include <stdexcept>

namespace atlas_restored::config {

using detail::entry;
using detail::map_reader;
using detail::problem_sink;

std::string format_problem(const config_problem& p) {
    std::string out = p.file;
    if (p.line > 0) {
        out += ":" + std::to_string(p.line);
    }
    out += ": ";
    if (!p.field_path.empty()) {
        out += p.field_path + ": ";
    }
    out += p.message;
    return out;
}

void throw_exception_from_error(const std::vector<config_problem>& problems, const boost::source_location&) {
    std::string text = "invalid configuration:";
    for (const auto& p : problems) {
        text += "\n" + format_problem(p);
    }
    throw std::runtime_error(text);
}

load_result load_configuration(const std::filesystem::path& main_file) {
    return load_configuration(main_file, std::chrono::system_clock::now());
}

namespace {

constexpr std::size_t max_file_bytes = 4 << 20;

// atlas: keys as written in one section (atlas: or a profile), before inheritance.
struct partial_atlas {
    std::optional<std::string> base_url;
    std::optional<std::string> api_version;
    std::optional<auth_settings> auth;
    std::optional<std::string> ca_file;
    std::optional<duration> request_timeout;
    std::optional<int> requests_per_minute;
    std::optional<std::string> proxy;
    std::optional<secret_ref> proxy_credentials;
};

void apply(const partial_atlas& p, atlas_settings& s) {
    if (p.base_url) {
        s.base_url = *p.base_url;
    }
    if (p.api_version) {
        s.api_version = *p.api_version;
    }
    if (p.auth) {
        s.auth = *p.auth;
    }
    if (p.ca_file) {
        s.ca_file = *p.ca_file;
    }
    if (p.request_timeout) {
        s.request_timeout = *p.request_timeout;
    }
    if (p.requests_per_minute) {
        s.requests_per_minute = *p.requests_per_minute;
    }
    if (p.proxy) {
        s.proxy = *p.proxy;
    }
    if (p.proxy_credentials) {
        s.proxy_credentials = *p.proxy_credentials;
    }
}

struct raw_profile {
    std::string name;
    partial_atlas settings;
    location where;
    std::string path;
};

const std::vector<std::string_view> atlas_keys = {"base_url",
                                                  "api_version",
                                                  "auth",
                                                  "tls",
                                                  "request_timeout",
                                                  "requests_per_minute",
                                                  "proxy",
                                                  "proxy_credentials_file",
                                                  "proxy_credentials_env"};
const std::vector<std::string_view> main_keys = {"atlas",
                                                 "profiles",
                                                 "notify",
                                                 "retry",
                                                 "state_dir",
                                                 "download_dir",
                                                 "metrics_listen",
                                                 "max_concurrent_runs",
                                                 "log_level",
                                                 "include",
                                                 "policies"};
const std::vector<std::string_view> drop_in_keys = {"profiles", "notify", "policies"};
const std::vector<std::string_view> policy_keys = {"name",
                                                   "group_id",
                                                   "cluster",
                                                   "profile",
                                                   "schedule",
                                                   "timezone",
                                                   "schedule_jitter",
                                                   "trigger",
                                                   "restore_point",
                                                   "delivery",
                                                   "download",
                                                   "after_download",
                                                   "resubmit_on_expiry",
                                                   "poll_interval",
                                                   "deadline",
                                                   "missed_fire_grace"};
const std::vector<std::string_view> restore_point_keys = {
    "latest_snapshot", "snapshot_id", "point_in_time_utc_millis", "oplog", "checkpoint_id"};
const std::vector<std::string_view> delivery_methods = {atlas::delivery_method::http,
                                                        atlas::delivery_method::automated_restore,
                                                        atlas::delivery_method::client_pit_http,
                                                        atlas::delivery_method::query,
                                                        atlas::delivery_method::third_party_copy,
                                                        atlas::delivery_method::client_pit_scp,
                                                        atlas::delivery_method::scp};

bool is_env_name(std::string_view s) {
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) {
        return false;
    }
    return std::all_of(
        s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

bool is_policy_name(std::string_view s) {
    auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    return !s.empty() && s.size() <= 100 && ok(s[0]) &&
           std::all_of(s.begin(), s.end(), [&](char c) { return ok(c) || c == '-'; });
}

// Parses one file's document into `out` (globals only from the main file).
class file_parser {
  public:
    file_parser(problem_sink& sink,
                std::filesystem::path dir,
                bool main,
                std::chrono::system_clock::time_point now)
        : sink_(sink), dir_(std::move(dir)), main_(main), now_(now) {}

    void parse(const YAML::Node& root,
               configuration& out,
               std::vector<raw_profile>& profiles,
               std::optional<partial_atlas>& atlas,
               bool& download_dir_set) {
        if (root.IsNull()) {
            if (main_) {
                sink_.add_line(1, "atlas", "is required (the file is empty)");
            }
            return;
        }
        if (!root.IsMap()) {
            sink_.add(root.Mark(), "", "the file must be a YAML mapping of the keys of SPEC §2");
            return;
        }
        map_reader top(sink_, root, root.Mark(), "", main_keys);
        if (!main_) {
            for (const auto& e : top.entries()) {
                if (std::find(drop_in_keys.begin(), drop_in_keys.end(), e.key) == drop_in_keys.end()) {
                    sink_.add(e.key_node.Mark(),
                              e.path,
                              "may only be set in the main file; a drop-in holds 'policies', 'profiles' and "
                              "'notify'");
                }
            }
        }
        if (const entry* e = top.get("profiles")) {
            parse_profiles(*e, profiles);
        }
        if (const entry* e = top.get("notify")) {
            parse_notify(*e, out.notify);
        }
        if (const entry* e = top.get("policies")) {
            parse_policies(*e, out.policies);
        }
        if (!main_) {
            return;
        }
        if (const entry* e = top.get("atlas")) {
            atlas = parse_atlas_section(*e, false, nullptr);
            const YAML::Node& section = e->value;
            if (atlas && !atlas->auth && !(section.IsMap() && section["auth"])) {
                sink_.add(e->key_node.Mark(), "atlas.auth", "is required: service_account or api_key");
            }
        } else {
            sink_.add(top.mark(), "atlas", "is required (Atlas base URL and credentials)");
        }
        if (const entry* e = top.get("retry")) {
            parse_retry(*e, out.retry);
        }
        if (const entry* e = top.get("state_dir")) {
            if (auto v = read_absolute_path(*e)) {
                out.state_dir = *v;
            }
        }
        if (const entry* e = top.get("download_dir")) {
            if (auto v = read_absolute_path(*e)) {
                out.download_dir = *v;
                download_dir_set = true;
            }
        }
        if (const entry* e = top.get("metrics_listen")) {
            parse_metrics_listen(*e, out.metrics_listen);
        }
        if (const entry* e = top.get("max_concurrent_runs")) {
            if (auto v = detail::read_int(sink_, *e, 1, 1000)) {
                out.max_concurrent_runs = static_cast<int>(*v);
            }
        }
        if (const entry* e = top.get("log_level")) {
            if (auto v = detail::read_enum(
                    sink_, *e, {"trace", "debug", "info", "warn", "error", "critical", "off"})) {
                out.log_level = *v;
            }
        }
        if (const entry* e = top.get("include")) {
            if (auto v = detail::read_string_list(sink_, *e, true)) {
                for (const auto& pattern : *v) {
                    if (pattern.empty()) {
                        sink_.add(e->mark(), e->path, "a glob must not be empty");
                    } else {
                        out.include.push_back(pattern);
                    }
                }
                include_line_ = detail::line_of(e->mark());
            }
        }
    }

    int include_line() const { return include_line_; }

  private:
    // ---- atlas: and profiles ----

    std::optional<partial_atlas> parse_atlas_section(const entry& e, bool profile, std::string* name) {
        std::vector<std::string_view> keys = atlas_keys;
        if (profile) {
            keys.insert(keys.begin(), "name");
        }
        map_reader m(sink_, e.value, e.mark(), e.path, keys);
        if (!m.ok()) {
            return std::nullopt;
        }
        partial_atlas p;
        if (profile) {
            if (const entry* n = m.get("name")) {
                if (auto v = detail::read_string(sink_, *n)) {
                    if (!is_policy_name(*v)) {
                        sink_.add(n->mark(),
                                  n->path,
                                  "must match [a-z0-9][a-z0-9-]* (lower-case letters, digits, '-')");
                    }
                    *name = *v;
                }
            } else {
                sink_.add(m.mark(), detail::join_path(m.path(), "name"), "is required");
            }
        }
        if (const entry* x = m.get("base_url")) {
            p.base_url = read_url(*x, {"https"}, false);
        }
        if (const entry* x = m.get("api_version")) {
            if (auto v = detail::read_string(sink_, *x)) {
                if (!is_api_version(*v)) {
                    sink_.add(x->mark(), x->path, "must be a date like \"2023-01-01\" (quote it)");
                } else {
                    p.api_version = *v;
                }
            }
        }
        if (const entry* x = m.get("auth")) {
            p.auth = parse_auth(*x);
        }
        if (const entry* x = m.get("tls")) {
            map_reader tls(sink_, x->value, x->mark(), x->path, {"ca_file"});
            if (const entry* ca = tls.get("ca_file")) {
                if (auto v = detail::read_string(sink_, *ca)) {
                    std::filesystem::path path = *v;
                    p.ca_file = (path.is_relative() ? dir_ / path : path).string();
                }
            }
        }
        if (const entry* x = m.get("request_timeout")) {
            p.request_timeout = detail::read_duration(sink_, *x, std::chrono::seconds(1));
        }
        if (const entry* x = m.get("requests_per_minute")) {
            if (auto v = detail::read_int(sink_, *x, 1, 100000)) {
                p.requests_per_minute = static_cast<int>(*v);
            }
        }
        if (const entry* x = m.get("proxy")) {
            p.proxy = read_url(*x, {"http"}, true);
        }
        if (m.get("proxy_credentials_file") || m.get("proxy_credentials_env")) {
            p.proxy_credentials = parse_secret(m, "proxy_credentials");
        }
        return p;
    }

    static bool is_api_version(std::string_view v) {
        if (v.size() != 10 || v[4] != '-' || v[7] != '-') {
            return false;
        }
        for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
            if (!std::isdigit(static_cast<unsigned char>(v[i]))) {
                return false;
            }
        }
        return true;
    }

    std::optional<std::string> read_url(const entry& e, std::vector<std::string_view> schemes, bool proxy) {
        auto text = detail::read_string(sink_, e);
        if (!text) {
            return std::nullopt;
        }
        auto parsed = boost::urls::parse_absolute_uri(*text);
        std::string scheme = parsed ? std::string(parsed->scheme()) : "";
        std::transform(
            scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
        if (!parsed || !parsed->has_authority() || parsed->host().empty() ||
            std::find(schemes.begin(), schemes.end(), scheme) == schemes.end()) {
            sink_.add(
                e.mark(),
                e.path,
                proxy ? "must be an http:// URL like http://proxy.corp:3128 (the TLS to Atlas is end to end "
                        "through CONNECT)"
                      : "must be an https:// URL like https://cloud.mongodb.com (TLS is always used)");
            return std::nullopt;
        }
        if (parsed->has_userinfo()) {
            sink_.add(e.mark(),
                      e.path,
                      "must not contain credentials (user:password@): secrets are not written in the YAML");
            return std::nullopt;
        }
        if (parsed->has_query() || parsed->has_fragment()) {
            sink_.add(e.mark(), e.path, "must not have a query or fragment");
            return std::nullopt;
        }
        std::string out = *text;
        while (out.size() > 1 && out.back() == '/') {
            out.pop_back();
        }
        return out;
    }

    std::optional<secret_ref> parse_secret(const map_reader& m, const std::string& base) {
        const entry* file = m.get(base + "_file");
        const entry* env = m.get(base + "_env");
        if (file && env) {
            sink_.add(
                env->key_node.Mark(), env->path, "set only one of " + base + "_file or " + base + "_env");
            return std::nullopt;
        }
        if (!file && !env) {
            sink_.add(m.mark(),
                      detail::join_path(m.path(), base + "_file"),
                      "is required (or " + base +
                          "_env): the secret is read from a file, a systemd credential or "
                          "the environment");
            return std::nullopt;
        }
        const entry& e = file ? *file : *env;
        auto v = detail::read_string(sink_, e);
        if (!v) {
            return std::nullopt;
        }
        secret_ref ref;
        ref.field_path = e.path;
        ref.where = sink_.where(e.mark());
        ref.name = *v;
        if (env) {
            if (!is_env_name(*v)) {
                sink_.add(e.mark(), e.path, "must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
                return std::nullopt;
            }
            ref.source = secret_source::env;
        } else {
            ref.source =
                std::filesystem::path(*v).is_absolute() ? secret_source::file : secret_source::credential;
        }
        return ref;
    }

    std::optional<auth_settings> parse_auth(const entry& e) {
        map_reader m(sink_, e.value, e.mark(), e.path, {"service_account", "api_key"});
        if (!m.ok()) {
            return std::nullopt;
        }
        const entry* sa = m.get("service_account");
        const entry* key = m.get("api_key");
        if (sa && key) {
            sink_.add(key->key_node.Mark(), e.path, "set only one of 'service_account' or 'api_key'");
            return std::nullopt;
        }
        if (!sa && !key) {
            sink_.add(m.mark(),
                      e.path,
                      "needs 'service_account' (client_id, client_secret_file) or 'api_key' "
                      "(public_key, private_key_file)");
            return std::nullopt;
        }
        auth_settings out;
        if (sa) {
            map_reader s(sink_,
                         sa->value,
                         sa->mark(),
                         sa->path,
                         {"client_id", "client_secret_file", "client_secret_env"});
            if (!s.ok()) {
                return std::nullopt;
            }
            auto id = required_string(s, "client_id");
            auto secret = parse_secret(s, "client_secret");
            if (!id || !secret) {
                return std::nullopt;
            }
            out.service_account = service_account_auth{*id, *secret};
        } else {
            map_reader k(sink_,
                         key->value,
                         key->mark(),
                         key->path,
                         {"public_key", "private_key_file", "private_key_env"});
            if (!k.ok()) {
                return std::nullopt;
            }
            auto id = required_string(k, "public_key");
            auto secret = parse_secret(k, "private_key");
            if (!id || !secret) {
                return std::nullopt;
            }
            out.api_key = api_key_auth{*id, *secret};
        }
        return out;
    }

    std::optional<std::string> required_string(const map_reader& m, std::string_view key) {
        if (const entry* e = m.get(key)) {
            return detail::read_string(sink_, *e);
        }
        sink_.add(m.mark(), detail::join_path(m.path(), key), "is required");
        return std::nullopt;
    }

    void parse_profiles(const entry& e, std::vector<raw_profile>& out) {
        if (!e.value.IsSequence()) {
            sink_.add(e.mark(), e.path, "must be a list of profiles (- name: …)");
            return;
        }
        for (std::size_t i = 0; i < e.value.size(); ++i) {
            entry item{"", e.key_node, e.value[i], detail::index_path(e.path, i)};
            std::string name;
            auto settings = parse_atlas_section(item, true, &name);
            if (settings && !name.empty()) {
                out.push_back({name, *settings, sink_.where(item.mark()), item.path});
            }
        }
    }

    // ---- notify, retry, globals ----

    void parse_notify(const entry& e, std::vector<notify_target>& out) {
        if (!e.value.IsSequence()) {
            sink_.add(e.mark(), e.path, "must be a list of webhooks (- url_file: …)");
            return;
        }
        for (std::size_t i = 0; i < e.value.size(); ++i) {
            entry item{"", e.key_node, e.value[i], detail::index_path(e.path, i)};
            map_reader m(sink_, item.value, item.mark(), item.path, {"url_file", "url_env", "on", "tls"});
            if (!m.ok()) {
                continue;
            }
            notify_target target;
            target.where = sink_.where(m.mark());
            auto url = parse_secret(m, "url");
            if (const entry* on = m.get("on")) {
                if (auto events = detail::read_string_list(sink_, *on)) {
                    target.on.clear();
                    for (std::size_t j = 0; j < events->size(); ++j) {
                        entry event{"", on->key_node, on->value[j], detail::index_path(on->path, j)};
                        if (auto v = detail::read_enum(
                                sink_, event, {"failed", "succeeded", "link_expiring", "reload_failed"})) {
                            auto kind = *v == "failed"          ? notify_event::failed
                                        : *v == "succeeded"     ? notify_event::succeeded
                                        : *v == "link_expiring" ? notify_event::link_expiring
                                                                : notify_event::reload_failed;
                            if (std::find(target.on.begin(), target.on.end(), kind) == target.on.end()) {
                                target.on.push_back(kind);
                            }
                        }
                    }
                    if (events->empty()) {
                        sink_.add(
                            on->mark(),
                            on->path,
                            "must name at least one event (failed, succeeded, link_expiring, reload_failed)");
                    }
                }
            }
            if (const entry* x = m.get("tls")) {
                map_reader tls(sink_, x->value, x->mark(), x->path, {"ca_file"});
                if (const entry* ca = tls.get("ca_file")) {
                    if (auto v = detail::read_string(sink_, *ca)) {
                        std::filesystem::path path = *v;
                        target.ca_file = (path.is_relative() ? dir_ / path : path).string();
                    }
                }
            }
            if (url) {
                target.url = *url;
                out.push_back(std::move(target));
            }
        }
    }

    void parse_retry(const entry& e, retry_settings& out) {
        map_reader m(sink_, e.value, e.mark(), e.path, {"initial", "multiplier", "max", "give_up_after"});
        if (const entry* x = m.get("initial")) {
            if (auto v = detail::read_duration(sink_, *x, std::chrono::milliseconds(1))) {
                out.initial = *v;
            }
        }
        if (const entry* x = m.get("multiplier")) {
            if (auto v = detail::read_number(sink_, *x, 1.0, 100.0)) {
                out.multiplier = *v;
            }
        }
        if (const entry* x = m.get("max")) {
            if (auto v = detail::read_duration(sink_, *x, std::chrono::milliseconds(1))) {
                out.max = *v;
            }
        }
        if (const entry* x = m.get("give_up_after")) {
            if (auto v = detail::read_duration(sink_, *x, std::chrono::milliseconds(1))) {
                out.give_up_after = *v;
            }
        }
        if (out.max < out.initial) {
            sink_.add(m.mark(), detail::join_path(e.path, "max"), "must not be shorter than retry.initial");
        }
    }

    std::optional<std::filesystem::path> read_absolute_path(const entry& e) {
        auto v = detail::read_string(sink_, e);
        if (!v) {
            return std::nullopt;
        }
        std::filesystem::path p = *v;
        if (!p.is_absolute()) {
            sink_.add(e.mark(), e.path, "must be an absolute path");
            return std::nullopt;
        }
        return p.lexically_normal();
    }

    void parse_metrics_listen(const entry& e, std::optional<std::string>& out) {
        if (e.is_null()) {
            out.reset();
            return;
        }
        auto v = detail::read_string(sink_, e, true);
        if (!v) {
            return;
        }
        if (v->empty() || *v == "off") {
            out.reset();
            return;
        }
        auto colon = v->rfind(':');
        bool ok = colon != std::string::npos && colon > 0 && colon + 1 < v->size();
        if (ok) {
            std::string host = v->substr(0, colon);
            std::string port = v->substr(colon + 1);
            ok = std::all_of(port.begin(),
                             port.end(),
                             [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
                 port.size() <= 5 && std::stoi(port) <= 65535;
            if (host.front() == '[') {
                ok = ok && host.back() == ']' && host.size() > 2;
            } else {
                ok = ok && host.find(':') == std::string::npos;
            }
        }
        if (!ok) {
            sink_.add(e.mark(), e.path, "must be HOST:PORT (e.g. 127.0.0.1:9464 or [::1]:9464), or \"off\"");
            return;
        }
        out = *v;
    }

    // ---- policies ----

    void parse_policies(const entry& e, std::vector<policy>& out) {
        if (e.is_null()) {
            return;  // "policies:" with nothing yet
        }
        if (!e.value.IsSequence()) {
            sink_.add(e.mark(), e.path, "must be a list of policies (- name: …)");
            return;
        }
        for (std::size_t i = 0; i < e.value.size(); ++i) {
            entry item{"", e.key_node, e.value[i], detail::index_path(e.path, i)};
            policy p;
            p.index = static_cast<int>(i);
            if (parse_policy(item, p)) {
                p.where.file = sink_.file();
                out.push_back(std::move(p));
            }
        }
    }

    // Records where each key of a policy was written (relative to the policy) for later checks.
    void note(policy& p, const std::string& policy_path, const entry& e) {
        std::string relative = e.path.substr(std::min(e.path.size(), policy_path.size() + 1));
        p.key_lines[relative] = detail::line_of(e.key_node.Mark());
    }

    bool parse_policy(const entry& item, policy& p) {
        map_reader m(sink_, item.value, item.mark(), item.path, policy_keys);
        if (!m.ok()) {
            return false;
        }
        p.where = sink_.where(m.mark());
        const std::string& path = item.path;
        for (const auto& e : m.entries()) {
            note(p, path, e);
        }

        if (auto name = required_string(m, "name")) {
            if (!is_policy_name(*name)) {
                sink_.add(m.get("name")->mark(),
                          m.get("name")->path,
                          "must match [a-z0-9][a-z0-9-]* (lower-case letters, digits and '-', at most 100)");
            }
            p.name = *name;
        }
        if (auto group = required_string(m, "group_id")) {
            if (!atlas::is_hex24(*group)) {
                sink_.add(
                    m.get("group_id")->mark(), m.get("group_id")->path, "must be 24 lowercase hex digits");
            }
            p.group_id = *group;
        }
        if (auto cluster = required_string(m, "cluster")) {
            if (!atlas::is_cluster_name(*cluster)) {
                sink_.add(m.get("cluster")->mark(),
                          m.get("cluster")->path,
                          "must match ^[a-zA-Z0-9][a-zA-Z0-9-]*$ (letters, digits and '-')");
            }
            p.cluster = *cluster;
        }
        if (const entry* e = m.get("profile")) {
            p.profile = detail::read_string(sink_, *e);
        }
        if (const entry* e = m.get("schedule")) {
            if (auto text = detail::read_string(sink_, *e)) {
                auto parsed = schedule::cron_expression::parse(*text);
                if (parsed) {
                    p.schedule = std::move(*parsed);
                } else {
                    sink_.add(e->mark(), e->path, "invalid cron expression: " + parsed.error().message);
                }
            }
        }
        if (const entry* e = m.get("timezone")) {
            if (auto text = detail::read_string(sink_, *e)) {
                p.timezone = *text;
            }
        }
        {
            auto zone = schedule::time_zone::load(p.timezone);
            if (zone) {
                p.zone = *zone;
            } else if (const entry* e = m.get("timezone")) {
                sink_.add(
                    e->mark(), e->path, zone.error().message + " (an IANA name like Europe/Berlin or UTC)");
            }
        }
        if (p.schedule && p.zone && !p.schedule->next_after(now_, p.zone.get())) {
            const entry* e = m.get("schedule");
            sink_.add(
                e->mark(), e->path, "never fires: no date within five years matches (e.g. 30 February)");
        }
        if (const entry* e = m.get("schedule_jitter")) {
            if (auto v = detail::read_duration(sink_, *e)) {
                p.schedule_jitter = *v;
            }
        }
        if (const entry* e = m.get("trigger")) {
            if (auto v = detail::read_string(sink_, *e)) {
                if (*v == "schedule" || *v == "manual") {
                    sink_.add(e->mark(),
                              e->path,
                              "'" + *v + "' is reserved (it names runs started by the schedule or run-now)");
                } else if (v->size() > 200 || std::any_of(v->begin(), v->end(), [](unsigned char c) {
                               return c < 0x20 || c == 0x7f;
                           })) {
                    sink_.add(e->mark(), e->path, "must be one line of at most 200 characters");
                } else {
                    p.trigger = *v;
                }
            }
        }
        if (const entry* e = m.get("restore_point")) {
            parse_restore_point(*e, p);
        } else {
            sink_.add(m.mark(),
                      detail::join_path(path, "restore_point"),
                      "is required: one of latest_snapshot, snapshot_id, point_in_time_utc_millis, oplog, "
                      "checkpoint_id");
        }
        if (const entry* e = m.get("delivery")) {
            parse_delivery(*e, p);
        } else {
            sink_.add(m.mark(),
                      detail::join_path(path, "delivery"),
                      "is required (at least method: HTTP or another)");
        }
        if (const entry* e = m.get("download")) {
            parse_download(*e, p);
        }
        if (const entry* e = m.get("after_download")) {
            parse_after_download(*e, p);
        }
        if (const entry* e = m.get("resubmit_on_expiry")) {
            if (auto v = detail::read_bool(sink_, *e)) {
                p.resubmit_on_expiry = *v;
            }
        }
        if (const entry* e = m.get("poll_interval")) {
            if (auto v = detail::read_duration(sink_, *e, std::chrono::seconds(1))) {
                p.poll_interval = *v;
            }
        }
        if (const entry* e = m.get("deadline")) {
            if (auto v = detail::read_duration(sink_, *e, std::chrono::minutes(1))) {
                p.deadline = *v;
            }
        }
        if (const entry* e = m.get("missed_fire_grace")) {
            p.missed_fire_grace = detail::read_duration(sink_, *e);
        }
        return true;
    }

    void parse_restore_point(const entry& e, policy& p) {
        map_reader m(sink_, e.value, e.mark(), e.path, restore_point_keys);
        if (!m.ok()) {
            return;
        }
        for (const auto& x : m.entries()) {
            p.key_lines["restore_point." + x.key] = detail::line_of(x.key_node.Mark());
        }
        const entry* chosen = nullptr;
        for (const auto& x : m.entries()) {
            if (chosen) {
                sink_.add(x.key_node.Mark(),
                          e.path,
                          "exactly one of latest_snapshot, snapshot_id, point_in_time_utc_millis, oplog or "
                          "checkpoint_id may be set; found '" +
                              chosen->key + "' and '" + x.key + "'");
                continue;
            }
            chosen = &x;
        }
        if (!chosen) {
            sink_.add(m.mark(),
                      e.path,
                      "needs one of latest_snapshot: true, snapshot_id, point_in_time_utc_millis, oplog or "
                      "checkpoint_id");
            return;
        }
        const entry& x = *chosen;
        restore_point& rp = p.point;
        if (x.key == "latest_snapshot") {
            rp.kind = restore_point_kind::latest_snapshot;
            if (auto v = detail::read_bool(sink_, x); v && !*v) {
                sink_.add(x.mark(), x.path, "must be true (or use another kind of restore point)");
            }
        } else if (x.key == "snapshot_id") {
            rp.kind = restore_point_kind::snapshot_id;
            if (auto v = detail::read_string(sink_, x)) {
                if (!atlas::is_hex24(*v)) {
                    sink_.add(x.mark(), x.path, "must be 24 lowercase hex digits");
                }
                rp.snapshot_id = *v;
            }
        } else if (x.key == "checkpoint_id") {
            rp.kind = restore_point_kind::checkpoint_id;
            if (auto v = detail::read_string(sink_, x)) {
                if (!atlas::is_hex24(*v)) {
                    sink_.add(x.mark(), x.path, "must be 24 lowercase hex digits");
                }
                rp.checkpoint_id = *v;
            }
        } else if (x.key == "point_in_time_utc_millis") {
            rp.kind = restore_point_kind::point_in_time;
            // The 24-hour window is checked when the run starts; only the minimum is timeless.
            if (auto v = detail::read_int(sink_, x, atlas::min_point_in_time_utc_millis)) {
                rp.point_in_time_utc_millis = *v;
            }
        } else if (x.key == "oplog") {
            rp.kind = restore_point_kind::oplog;
            map_reader o(sink_, x.value, x.mark(), x.path, {"ts", "inc"});
            if (!o.ok()) {
                return;
            }
            for (const auto& y : o.entries()) {
                p.key_lines["restore_point.oplog." + y.key] = detail::line_of(y.key_node.Mark());
            }
            if (auto ts = required_string(o, "ts")) {
                if (!atlas::is_iso8601_date_time(*ts)) {
                    sink_.add(o.get("ts")->mark(),
                              o.get("ts")->path,
                              "must be an ISO-8601 date-time in UTC like \"2026-11-28T03:00:00Z\"");
                }
                rp.oplog_ts = *ts;
            }
            if (const entry* inc = o.get("inc")) {
                if (auto v = detail::read_int(sink_, *inc, 1, UINT32_MAX)) {
                    rp.oplog_inc = *v;
                }
            } else {
                sink_.add(
                    o.mark(), detail::join_path(x.path, "inc"), "is required with ts (an integer >= 1)");
            }
        }
    }

    void parse_delivery(const entry& e, policy& p) {
        map_reader m(sink_,
                     e.value,
                     e.mark(),
                     e.path,
                     {"method",
                      "expiration_hours",
                      "max_downloads",
                      "target_group_id",
                      "target_cluster_name",
                      "target_cluster_id",
                      "confirm_overwrite"});
        if (!m.ok()) {
            return;
        }
        for (const auto& x : m.entries()) {
            p.key_lines["delivery." + x.key] = detail::line_of(x.key_node.Mark());
        }
        delivery_settings& d = p.delivery;
        if (const entry* x = m.get("method")) {
            if (auto v = detail::read_enum(sink_, *x, delivery_methods)) {
                d.method = *v;
            }
        } else {
            sink_.add(m.mark(),
                      detail::join_path(e.path, "method"),
                      "is required: " + detail::quoted_alternatives(delivery_methods));
        }
        if (const entry* x = m.get("expiration_hours")) {
            if (auto v = detail::read_int(sink_, *x, 1, INT32_MAX)) {
                d.expiration_hours = static_cast<std::int32_t>(*v);
            }
        }
        if (const entry* x = m.get("max_downloads")) {
            if (auto v = detail::read_int(sink_, *x, 1, INT32_MAX)) {
                d.max_downloads = static_cast<std::int32_t>(*v);
            }
        }
        for (auto [key, field] : {std::pair{"target_group_id", &d.target_group_id},
                                  std::pair{"target_cluster_id", &d.target_cluster_id}}) {
            if (const entry* x = m.get(key)) {
                if (auto v = detail::read_string(sink_, *x)) {
                    if (!atlas::is_hex24(*v)) {
                        sink_.add(x->mark(), x->path, "must be 24 lowercase hex digits");
                    }
                    *field = *v;
                }
            }
        }
        if (const entry* x = m.get("target_cluster_name")) {
            if (auto v = detail::read_string(sink_, *x)) {
                if (!atlas::is_cluster_name(*v)) {
                    sink_.add(x->mark(),
                              x->path,
                              "must match ^[a-zA-Z0-9][a-zA-Z0-9-]*$ (letters, digits and '-')");
                }
                d.target_cluster_name = *v;
            }
        }
        if (const entry* x = m.get("confirm_overwrite")) {
            d.confirm_overwrite = detail::read_string(sink_, *x);
        }
    }

    void parse_download(const entry& e, policy& p) {
        map_reader m(
            sink_, e.value, e.mark(), e.path, {"verify", "keep_last", "max_file_bytes", "on_mismatch"});
        for (const auto& x : m.entries()) {
            p.key_lines["download." + x.key] = detail::line_of(x.key_node.Mark());
        }
        download_settings& d = p.download;
        if (const entry* x = m.get("verify")) {
            if (auto v = detail::read_enum(sink_, *x, {"sha1"})) {
                d.verify = *v;
            }
        }
        if (const entry* x = m.get("keep_last")) {
            if (auto v = detail::read_int(sink_, *x, 1, 10000)) {
                d.keep_last = static_cast<int>(*v);
            }
        }
        if (const entry* x = m.get("max_file_bytes")) {
            if (auto v = detail::read_size(sink_, *x)) {
                d.max_file_bytes = *v;
            }
        }
        if (const entry* x = m.get("on_mismatch")) {
            if (auto v = detail::read_enum(sink_, *x, {"keep", "delete"})) {
                d.on_mismatch = *v == "keep" ? mismatch_action::keep : mismatch_action::delete_file;
            }
        }
    }

    void parse_after_download(const entry& e, policy& p) {
        map_reader m(sink_, e.value, e.mark(), e.path, {"command", "timeout"});
        if (!m.ok()) {
            return;
        }
        for (const auto& x : m.entries()) {
            p.key_lines["after_download." + x.key] = detail::line_of(x.key_node.Mark());
        }
        after_download_settings a;
        bool ok = true;
        if (const entry* x = m.get("command")) {
            if (auto v = detail::read_string_list(sink_, *x)) {
                if (v->empty() || (*v)[0].empty()) {
                    sink_.add(
                        x->mark(), x->path, "must name a program: [\"/usr/bin/tar\", \"-tzf\", \"{file}\"]");
                    ok = false;
                } else {
                    a.command = *v;
                }
            } else {
                ok = false;
            }
        } else {
            sink_.add(m.mark(),
                      detail::join_path(e.path, "command"),
                      "is required (a list: program and arguments, no shell)");
            ok = false;
        }
        if (const entry* x = m.get("timeout")) {
            if (auto v = detail::read_duration(sink_, *x, std::chrono::seconds(1))) {
                a.timeout = *v;
            }
        }
        if (ok) {
            p.after_download = std::move(a);
        }
    }

    problem_sink& sink_;
    std::filesystem::path dir_;
    bool main_;
    std::chrono::system_clock::time_point now_;
    int include_line_ = 0;
};

std::optional<std::string> read_text(const std::filesystem::path& file, problem_sink& sink) {
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec)) {
        sink.add_line(0, "", "is a directory, not a configuration file");
        return std::nullopt;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        sink.add_line(0, "", std::string("cannot read the file: ") + std::strerror(errno));
        return std::nullopt;
    }
    std::string text;
    char buffer[8192];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        text.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (text.size() > max_file_bytes) {
            sink.add_line(0, "", "is larger than 4 MiB; is this the right file?");
            return std::nullopt;
        }
    }
    return text;
}

// Sees the events of one YAML document: was it a lone null, and where did it start?
class document_probe final : public YAML::EventHandler {
  public:
    std::optional<YAML::Mark> start;  // the first node's position
    int nodes = 0;
    bool only_null = true;

    void OnDocumentStart(const YAML::Mark&) override {
        start.reset();
        nodes = 0;
        only_null = true;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark, true); }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark, false); }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
        node(mark, false);
    }
    void OnSequenceStart(const YAML::Mark& mark,
                         const std::string&,
                         YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
        node(mark, false);
    }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark& mark,
                    const std::string&,
                    YAML::anchor_t,
                    YAML::EmitterStyle::value) override {
        node(mark, false);
    }
    void OnMapEnd() override {}

  private:
    void node(const YAML::Mark& mark, bool is_null) {
        if (!start) {
            start = mark;
        }
        ++nodes;
        only_null = only_null && is_null;
    }
};

// yaml-cpp's LoadAll() loop (below): the same lone null twice at one place.
bool stuck_on_a_token(const document_probe& a, const document_probe& b) {
    return a.nodes == 1 && a.only_null && b.nodes == 1 && b.only_null && a.start && b.start &&
           a.start->pos == b.start->pos;
}

// "','", "byte 0x12" or "end of file": the character at `pos`, safe to print.
std::string describe_char_at(const std::string& text, int pos) {
    if (pos < 0 || static_cast<std::size_t>(pos) >= text.size()) {
        return "end of file";
    }
    const auto c = static_cast<unsigned char>(text[static_cast<std::size_t>(pos)]);
    if (std::isprint(c)) {
        return "'" + std::string(1, static_cast<char>(c)) + "'";
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", c);
    return "byte " + std::string(hex);
}

// Parses YAML text; a syntax error becomes a problem at the line where parsing stopped.
//
// Not YAML::LoadAll(): in yaml-cpp 0.7 (Debian 12) it loops forever, allocating until the
// machine runs out of memory, on some malformed streams, e.g. a lone "," (jbeder/yaml-cpp#1040,
// fixed upstream by PR 1319; found here by fuzz_config_yaml). There each "document" is a null
// that consumes nothing. So the documents are first counted with a probe that stops there, and
// the one document is then loaded with YAML::Load(), which reads a single document.
std::optional<YAML::Node> parse_yaml(const std::string& text, problem_sink& sink) {
    try {
        std::istringstream stream(text);
        YAML::Parser parser(stream);
        // Every document, until yaml-cpp is seen stuck on a token: two lone nulls in a row at the
        // same place (it gets there after real documents too). Bounded all the same.
        constexpr std::size_t max_documents = 1000;
        std::size_t documents = 0;
        document_probe previous;
        document_probe probe;
        while (documents < max_documents && parser.HandleNextDocument(probe)) {
            if (documents > 0 && stuck_on_a_token(previous, probe)) {
                sink.add(
                    *probe.start, "", "invalid YAML: unexpected " + describe_char_at(text, probe.start->pos));
                return std::nullopt;
            }
            previous = probe;
            ++documents;
        }
        if (documents == 0) {
            return YAML::Node();  // no document at all: an empty file
        }
        if (documents > 1) {
            sink.add_line(0, "", "holds several YAML documents (---); only one is allowed");
            return std::nullopt;
        }
        return YAML::Load(text);
    } catch (const YAML::Exception& e) {
        sink.add(e.mark, "", "invalid YAML: " + e.msg);
        return std::nullopt;
    }
}

// The files an include: glob matches, sorted (glob(3) sorts).
std::vector<std::filesystem::path> expand_glob(const std::string& pattern, std::string& error) {
    glob_t g{};
    // No GLOB_ERR: a directory that does not exist is a glob that matches nothing.
    int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
    std::vector<std::filesystem::path> out;
    if (rc == 0) {
        for (std::size_t i = 0; i < g.gl_pathc; ++i) {
            out.emplace_back(g.gl_pathv[i]);
        }
    } else if (rc != GLOB_NOMATCH) {
        error = "the glob cannot be expanded";
    }
    ::globfree(&g);
    return out;
}

std::filesystem::path identity(const std::filesystem::path& p) {
    std::error_code ec;
    auto canonical = std::filesystem::weakly_canonical(p, ec);
    return ec ? std::filesystem::absolute(p, ec).lexically_normal() : canonical;
}

}  // namespace

namespace detail {
std::vector<config_problem> validate_policies(const configuration& c,
                                              std::chrono::system_clock::time_point now,
                                              const std::vector<std::set<std::string>>& known_problems);
}

load_result load_configuration(const std::filesystem::path& main_file,
                               std::chrono::system_clock::time_point now) {
    std::vector<config_problem> problems;
    configuration config;
    config.main_file = main_file;
    std::vector<raw_profile> profiles;
    std::optional<partial_atlas> atlas;
    bool download_dir_set = false;
    std::set<std::filesystem::path> loaded;

    const std::filesystem::path dir = main_file.parent_path();
    problem_sink main_sink(main_file.string(), problems);
    config.files.push_back(main_file);
    loaded.insert(identity(main_file));
    int include_line = 0;
    if (auto text = read_text(main_file, main_sink)) {
        if (auto root = parse_yaml(*text, main_sink)) {
            file_parser parser(main_sink, dir, true, now);
            parser.parse(*root, config, profiles, atlas, download_dir_set);
            include_line = parser.include_line();
        }
    }

    for (const auto& pattern : config.include) {
        std::filesystem::path full =
            std::filesystem::path(pattern).is_relative() ? dir / pattern : std::filesystem::path(pattern);
        std::string error;
        auto matches = expand_glob(full.string(), error);
        if (!error.empty()) {
            main_sink.add_line(include_line, "include", "'" + pattern + "': " + error);
        }
        for (const auto& file : matches) {
            if (!loaded.insert(identity(file)).second) {
                continue;  // the main file, or matched by an earlier glob
            }
            std::error_code ec;
            if (std::filesystem::is_directory(file, ec)) {
                continue;
            }
            config.files.push_back(file);
            problem_sink sink(file.string(), problems);
            if (auto text = read_text(file, sink)) {
                if (auto root = parse_yaml(*text, sink)) {
                    std::optional<partial_atlas> ignored;
                    bool ignored_flag = false;
                    file_parser(sink, file.parent_path(), false, now)
                        .parse(*root, config, profiles, ignored, ignored_flag);
                }
            }
        }
    }

    if (atlas) {
        apply(*atlas, config.atlas);
    }
    std::map<std::string, location> profile_names;
    for (const auto& raw : profiles) {
        if (auto [it, inserted] = profile_names.emplace(raw.name, raw.where); !inserted) {
            problems.push_back({raw.where.file,
                                raw.where.line,
                                raw.where.column,
                                raw.path + ".name",
                                "duplicate profile name '" + raw.name + "' (first defined at " +
                                    it->second.file + ":" + std::to_string(it->second.line) + ")"});
            continue;
        }
        profile resolved{raw.name, config.atlas, raw.where};
        apply(raw.settings, resolved.atlas);
        config.profiles.push_back(std::move(resolved));
    }
    if (!download_dir_set) {
        config.download_dir = config.state_dir / "downloads";
    }

    // The fields of each policy that already have a problem: the cross-field checks skip them and
    // what lies below them, so one mistake is reported once.
    std::vector<std::set<std::string>> known(config.policies.size());
    for (std::size_t i = 0; i < config.policies.size(); ++i) {
        const policy& p = config.policies[i];
        std::string prefix = "policies[" + std::to_string(p.index) + "]";
        for (const auto& problem : problems) {
            if (problem.file == p.where.file && problem.field_path.starts_with(prefix)) {
                std::string rest = problem.field_path.substr(prefix.size());
                if (rest.empty() || rest[0] == '.') {
                    known[i].insert(rest.empty() ? rest : rest.substr(1));
                }
            }
        }
    }
    auto cross = detail::validate_policies(config, now, known);
    problems.insert(problems.end(), cross.begin(), cross.end());
    if (!problems.empty()) {
        // File order (main first, drop-ins as loaded), then line: the order a reader fixes them in.
        auto rank = [&](const std::string& file) {
            for (std::size_t i = 0; i < config.files.size(); ++i) {
                if (config.files[i].string() == file) {
                    return i;
                }
            }
            return config.files.size();
        };
        std::stable_sort(
            problems.begin(), problems.end(), [&](const config_problem& a, const config_problem& b) {
                auto ra = rank(a.file);
                auto rb = rank(b.file);
                return ra != rb ? ra < rb : a.line < b.line;
            });
        return load_result(boost::system::in_place_error, std::move(problems));
    }
    return load_result(boost::system::in_place_value, std::move(config));
}

}  // namespace atlas_restored::config
