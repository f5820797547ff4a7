#pragma once
// What `check` prints and what reports and reloads record about a configuration: the effective
// policies (defaults filled in, secrets only as references), their next fire times, a digest of the
// effective configuration, and the difference between two configurations. Pure: `now` and the
// trigger state are parameters.

#include "config/config.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace atlas_restored::config {

// Each policy with every key (defaults filled in; secrets as "file …" / "env …" references), its
// source file and line, its resolved Atlas settings, and for scheduled policies the next three fire
// times after `now` in UTC and in the policy's time zone.
std::string describe_policies(const configuration& c, std::chrono::system_clock::time_point now);

// A canonical rendering of the effective configuration: fixed key order, policies and profiles
// sorted by name, no comments, file names or line numbers. Two files that differ only in layout,
// comments, key order or default values written out give the same text.
std::string canonical_text(const configuration& c);

// SHA-256 (lower-case hex, 64 digits) of canonical_text(c): the "configuration in force" in
// reports and the audit log.
std::string config_digest(const configuration& c);

struct config_diff {
    std::vector<std::string> added;    // policy names only in `next`, sorted
    std::vector<std::string> removed;  // policy names only in `old`, sorted
    std::vector<std::string> changed;  // in both, with a different effective policy (its own keys)
    // (policy, trigger value) for each policy of `next` whose trigger has not been consumed: the
    // runs a start or reload with `next` would begin.
    std::vector<std::pair<std::string, std::string>> new_triggers;
    // Other sections whose effective value changed: "atlas", "profiles", "notify", "retry",
    // "state_dir", "download_dir", "metrics_listen", "max_concurrent_runs", "log_level". Empty when
    // `old` was never loaded (main_file empty).
    std::vector<std::string> settings_changed;

    bool empty() const {
        return added.empty() && removed.empty() && changed.empty() && new_triggers.empty() &&
               settings_changed.empty();
    }
};

// The parts of an effective configuration a diff compares, as text: each section ("atlas",
// "retry", …) and each policy by name. The daemon stores the one in force in its state database so
// that `check --against-state` can say what a reload would change without asking the daemon.
struct config_snapshot {
    std::map<std::string, std::string> sections;
    std::map<std::string, std::string> policies;

    bool operator==(const config_snapshot&) const = default;
};
config_snapshot snapshot_of(const configuration& c);

// `in_force` is std::nullopt when nothing was loaded before (a first start): every policy is then
// added and no setting is reported as changed.
config_diff diff_configurations(
    const std::optional<config_snapshot>& in_force,
    const configuration& next,
    const std::function<bool(const std::string& policy, const std::string& trigger)>& is_trigger_consumed);

// `old_or_empty` is the configuration in force (a default-constructed one at start-up or for a plain
// `check`). is_trigger_consumed(policy, trigger) says whether that trigger value already ran (from
// the state database); a consumed trigger is not reported.
config_diff diff_configurations(
    const configuration& old_or_empty,
    const configuration& next,
    const std::function<bool(const std::string& policy, const std::string& trigger)>& is_trigger_consumed);

// Human lines for `check` and the reload log: "added: a, b", "new trigger: p=INC-1", … or
// "no changes".
std::string format_diff(const config_diff& d);

}  // namespace atlas_restored::config
