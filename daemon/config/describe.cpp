#include "config/describe.hpp"

#include "schedule/civil.hpp"
#include "schedule/duration.hpp"
#include "schedule/time_zone.hpp"
#include "util/time.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <map>
#include <sstream>

namespace atlas_restored::config {

using schedule::format_duration;

namespace {

// A scalar as YAML would read it back: plain when that is unambiguous, else double-quoted.
std::string quote(const std::string& s) {
    bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '_' || c == '.' || c == '/' || c == '-' || c == '+' || c == '@';
    });
    if (plain && s != "true" && s != "false" && s != "null" &&
        !std::isdigit(static_cast<unsigned char>(s[0]))) {
        return s;
    }
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\x%02x", c);
            out += buffer;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

template <class T>
std::string opt(const std::optional<T>& v) {
    if (!v) {
        return "(unset)";
    }
    if constexpr (std::is_same_v<T, std::string>) {
        return quote(*v);
    } else {
        return std::to_string(*v);
    }
}

std::string secret_text(const secret_ref& ref) {
    switch (ref.source) {
        case secret_source::file:
            return "{file: " + quote(ref.name) + "}";
        case secret_source::credential:
            return "{credential: " + quote(ref.name) + "}";
        case secret_source::env:
            return "{env: " + quote(ref.name) + "}";
    }
    return "?";
}

// One line per effective key; `pad` is the indentation of the block.
class renderer {
  public:
    explicit renderer(std::ostringstream& out) : out_(out) {}

    void line(int depth, const std::string& key, const std::string& value = {}) {
        out_ << std::string(static_cast<std::size_t>(depth) * 2, ' ') << key << ":";
        if (!value.empty()) {
            out_ << ' ' << value;
        }
        out_ << '\n';
    }

    void atlas(int d, const atlas_settings& a) {
        line(d, "base_url", quote(a.base_url));
        line(d, "api_version", "\"" + a.api_version + "\"");
        line(d, "auth");
        if (a.auth.service_account) {
            line(d + 1, "service_account");
            line(d + 2, "client_id", quote(a.auth.service_account->client_id));
            line(d + 2, "client_secret", secret_text(a.auth.service_account->client_secret));
        }
        if (a.auth.api_key) {
            line(d + 1, "api_key");
            line(d + 2, "public_key", quote(a.auth.api_key->public_key));
            line(d + 2, "private_key", secret_text(a.auth.api_key->private_key));
        }
        line(d, "tls");
        line(d + 1, "ca_file", a.ca_file ? quote(*a.ca_file) : "(system trust store)");
        line(d, "request_timeout", format_duration(a.request_timeout));
        line(d, "requests_per_minute", std::to_string(a.requests_per_minute));
        line(d, "proxy", a.proxy ? quote(*a.proxy) : "(environment)");
        if (a.proxy_credentials) {
            line(d, "proxy_credentials", secret_text(*a.proxy_credentials));
        }
    }

    void policy_keys(int d, const policy& p) {
        line(d, "group_id", quote(p.group_id));
        line(d, "cluster", quote(p.cluster));
        line(d, "profile", p.profile ? quote(*p.profile) : "(atlas)");
        line(d, "schedule", p.schedule ? "\"" + p.schedule->text() + "\"" : "(none)");
        line(d, "timezone", quote(p.timezone));
        line(d, "schedule_jitter", format_duration(p.schedule_jitter));
        line(d, "trigger", p.trigger ? quote(*p.trigger) : "(none)");
        line(d, "restore_point");
        const restore_point& rp = p.point;
        switch (rp.kind) {
            case restore_point_kind::latest_snapshot:
                line(d + 1, "latest_snapshot", "true");
                break;
            case restore_point_kind::snapshot_id:
                line(d + 1, "snapshot_id", quote(rp.snapshot_id));
                break;
            case restore_point_kind::point_in_time:
                line(d + 1,
                     "point_in_time_utc_millis",
                     std::to_string(rp.point_in_time_utc_millis) + "  # " +
                         format_iso8601(from_unix_millis(rp.point_in_time_utc_millis), true));
                break;
            case restore_point_kind::oplog:
                line(d + 1, "oplog");
                line(d + 2, "ts", "\"" + rp.oplog_ts + "\"");
                line(d + 2, "inc", std::to_string(rp.oplog_inc));
                break;
            case restore_point_kind::checkpoint_id:
                line(d + 1, "checkpoint_id", quote(rp.checkpoint_id));
                break;
        }
        const delivery_settings& dl = p.delivery;
        line(d, "delivery");
        line(d + 1, "method", dl.method);
        line(d + 1, "expiration_hours", opt(dl.expiration_hours));
        line(d + 1, "max_downloads", opt(dl.max_downloads));
        line(d + 1, "target_group_id", opt(dl.target_group_id));
        line(d + 1, "target_cluster_name", opt(dl.target_cluster_name));
        line(d + 1, "target_cluster_id", opt(dl.target_cluster_id));
        line(d + 1, "confirm_overwrite", opt(dl.confirm_overwrite));
        line(d, "download");
        line(d + 1, "verify", p.download.verify);
        line(d + 1, "keep_last", std::to_string(p.download.keep_last));
        line(d + 1, "max_file_bytes", std::to_string(p.download.max_file_bytes));
        line(d + 1, "on_mismatch", to_string(p.download.on_mismatch));
        if (p.after_download) {
            line(d, "after_download");
            std::string command = "[";
            for (std::size_t i = 0; i < p.after_download->command.size(); ++i) {
                command += (i ? ", " : "") + quote(p.after_download->command[i]);
            }
            line(d + 1, "command", command + "]");
            line(d + 1, "timeout", format_duration(p.after_download->timeout));
        } else {
            line(d, "after_download", "(none)");
        }
        line(d, "resubmit_on_expiry", p.resubmit_on_expiry ? "true" : "false");
        line(d, "poll_interval", format_duration(p.poll_interval));
        line(d, "deadline", format_duration(p.deadline));
        line(d,
             "missed_fire_grace",
             p.missed_fire_grace ? format_duration(*p.missed_fire_grace) : "(one schedule period)");
    }

    void notify(int d, const notify_target& n) {
        line(d, "url", secret_text(n.url));
        std::string on = "[";
        for (std::size_t i = 0; i < n.on.size(); ++i) {
            on += (i ? ", " : "") + std::string(to_string(n.on[i]));
        }
        line(d, "on", on + "]");
        if (n.ca_file) {
            line(d, "tls");
            line(d + 1, "ca_file", quote(*n.ca_file));
        }
    }

  private:
    std::ostringstream& out_;
};

std::string policy_text(const policy& p) {
    std::ostringstream out;
    renderer r(out);
    r.line(0, "name", quote(p.name));
    r.policy_keys(0, p);
    return out.str();
}

// The sections of the configuration other than policies, one text each, for digest and diff.
std::map<std::string, std::string> section_texts(const configuration& c) {
    std::map<std::string, std::string> sections;
    auto text = [](auto&& fill) {
        std::ostringstream out;
        renderer r(out);
        fill(r);
        return out.str();
    };
    sections["atlas"] = text([&](renderer& r) { r.atlas(0, c.atlas); });
    std::vector<const profile*> profiles;
    for (const auto& p : c.profiles) {
        profiles.push_back(&p);
    }
    std::sort(profiles.begin(), profiles.end(), [](auto* a, auto* b) { return a->name < b->name; });
    sections["profiles"] = text([&](renderer& r) {
        for (const profile* p : profiles) {
            r.line(0, "- name", quote(p->name));
            r.atlas(1, p->atlas);
        }
    });
    sections["notify"] = text([&](renderer& r) {
        for (const auto& n : c.notify) {
            r.line(0, "-");
            r.notify(1, n);
        }
    });
    sections["retry"] = text([&](renderer& r) {
        std::ostringstream multiplier;
        multiplier << c.retry.multiplier;
        r.line(0, "initial", format_duration(c.retry.initial));
        r.line(0, "multiplier", multiplier.str());
        r.line(0, "max", format_duration(c.retry.max));
        r.line(0, "give_up_after", format_duration(c.retry.give_up_after));
    });
    sections["state_dir"] = quote(c.state_dir.string());
    sections["download_dir"] = quote(c.download_dir.string());
    sections["metrics_listen"] = c.metrics_listen ? quote(*c.metrics_listen) : "off";
    sections["max_concurrent_runs"] = std::to_string(c.max_concurrent_runs);
    sections["log_level"] = c.log_level;
    return sections;
}

std::string format_local(std::chrono::system_clock::time_point t, const schedule::time_zone& zone) {
    auto local = zone.to_local(t).time_since_epoch().count();
    auto days = schedule::civil::floor_div(local, 86400);
    auto seconds = schedule::civil::floor_mod(local, 86400);
    auto date = schedule::civil::civil_from_days(days);
    auto info = zone.info_at(t);
    auto offset = info.offset.count();
    char buffer[96];
    std::snprintf(buffer,
                  sizeof buffer,
                  "%04lld-%02u-%02u %02lld:%02lld %c%02lld:%02lld",
                  static_cast<long long>(date.year),
                  date.month,
                  date.day,
                  static_cast<long long>(seconds / 3600),
                  static_cast<long long>(seconds / 60 % 60),
                  offset < 0 ? '-' : '+',
                  static_cast<long long>(std::abs(offset) / 3600),
                  static_cast<long long>(std::abs(offset) / 60 % 60));
    std::string out = buffer;
    if (!info.abbreviation.empty()) {
        out += " " + info.abbreviation;
    }
    return out + " " + zone.name();
}

}  // namespace

std::string describe_policies(const configuration& c, std::chrono::system_clock::time_point now) {
    std::ostringstream out;
    if (c.policies.empty()) {
        out << "no policies configured\n";
    }
    for (const auto& p : c.policies) {
        renderer r(out);
        out << "policy " << p.name << "  (" << p.where.file << ":" << p.where.line << ")\n";
        r.policy_keys(1, p);
        if (const atlas_settings* a = settings_for(c, p)) {
            r.line(1, p.profile ? "atlas (profile " + *p.profile + ")" : "atlas");
            r.atlas(2, *a);
        }
        if (p.schedule) {
            r.line(1, "next fire times");
            auto t = now;
            for (int i = 0; i < 3; ++i) {
                auto next = p.schedule->next_after(t, p.zone.get());
                if (!next) {
                    out << "    (none within five years)\n";
                    break;
                }
                out << "    - " << format_iso8601(*next);
                if (p.zone && p.timezone != "UTC") {
                    out << "  (" << format_local(*next, *p.zone) << ")";
                }
                if (p.schedule_jitter.count() > 0) {
                    out << "  + up to " << format_duration(p.schedule_jitter) << " jitter";
                }
                out << "\n";
                t = *next;
            }
        } else if (!p.trigger) {
            r.line(1, "runs", "only via run-now (no schedule, no trigger)");
        }
        out << "\n";
    }
    return out.str();
}

std::string canonical_text(const configuration& c) {
    std::ostringstream out;
    for (const auto& [name, text] : section_texts(c)) {
        out << "[" << name << "]\n" << text << "\n";
    }
    std::vector<const policy*> policies;
    for (const auto& p : c.policies) {
        policies.push_back(&p);
    }
    std::sort(policies.begin(), policies.end(), [](auto* a, auto* b) { return a->name < b->name; });
    out << "[policies]\n";
    for (const policy* p : policies) {
        out << policy_text(*p) << "\n";
    }
    return out.str();
}

std::string config_digest(const configuration& c) {
    std::string text = canonical_text(c);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("SHA-256 is not available from OpenSSL");
    }
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < size; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0xf];
    }
    return out;
}

config_snapshot snapshot_of(const configuration& c) {
    config_snapshot s;
    s.sections = section_texts(c);
    for (const auto& p : c.policies) {
        s.policies[p.name] = policy_text(p);
    }
    return s;
}

config_diff diff_configurations(
    const std::optional<config_snapshot>& in_force,
    const configuration& next,
    const std::function<bool(const std::string& policy, const std::string& trigger)>& is_trigger_consumed) {
    config_diff d;
    static const std::map<std::string, std::string> none;
    const auto& before = in_force ? in_force->policies : none;
    const config_snapshot after = snapshot_of(next);
    for (const auto& [name, text] : after.policies) {
        auto it = before.find(name);
        if (it == before.end()) {
            d.added.push_back(name);
        } else if (it->second != text) {
            d.changed.push_back(name);
        }
    }
    for (const auto& [name, text] : before) {
        if (!after.policies.contains(name)) {
            d.removed.push_back(name);
        }
    }
    for (const auto& p : next.policies) {
        if (p.trigger && !(is_trigger_consumed && is_trigger_consumed(p.name, *p.trigger))) {
            d.new_triggers.emplace_back(p.name, *p.trigger);
        }
    }
    if (!in_force) {
        return d;  // nothing was loaded before: every setting is new, which says nothing
    }
    for (const auto& [name, text] : after.sections) {
        auto it = in_force->sections.find(name);
        if (it == in_force->sections.end() || it->second != text) {
            d.settings_changed.push_back(name);
        }
    }
    return d;
}

config_diff diff_configurations(
    const configuration& old_or_empty,
    const configuration& next,
    const std::function<bool(const std::string& policy, const std::string& trigger)>& is_trigger_consumed) {
    auto d = diff_configurations(std::optional(snapshot_of(old_or_empty)), next, is_trigger_consumed);
    if (old_or_empty.main_file.empty()) {
        d.settings_changed.clear();  // nothing was loaded before: every setting is new, which says nothing
    }
    return d;
}

std::string format_diff(const config_diff& d) {
    if (d.empty()) {
        return "no changes\n";
    }
    std::ostringstream out;
    auto list = [&](const char* what, const std::vector<std::string>& names) {
        if (names.empty()) {
            return;
        }
        out << what << ":";
        for (std::size_t i = 0; i < names.size(); ++i) {
            out << (i ? ", " : " ") << names[i];
        }
        out << "\n";
    };
    list("added policies", d.added);
    list("removed policies", d.removed);
    list("changed policies", d.changed);
    for (const auto& [policy, trigger] : d.new_triggers) {
        out << "new trigger: " << policy << " runs for trigger " << quote(trigger) << "\n";
    }
    list("changed settings", d.settings_changed);
    return out.str();
}

}  // namespace atlas_restored::config
