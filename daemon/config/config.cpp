#include "config/config.hpp"

namespace atlas_restored::config {

std::string describe(const secret_ref& ref) {
    switch (ref.source) {
        case secret_source::file:
            return "file " + ref.name;
        case secret_source::credential:
            return "credential " + ref.name;
        case secret_source::env:
            return "env " + ref.name;
    }
    return ref.name;
}

const char* to_string(notify_event e) {
    switch (e) {
        case notify_event::failed:
            return "failed";
        case notify_event::succeeded:
            return "succeeded";
        case notify_event::link_expiring:
            return "link_expiring";
        case notify_event::reload_failed:
            return "reload_failed";
    }
    return "?";
}

const char* to_string(restore_point_kind k) {
    switch (k) {
        case restore_point_kind::latest_snapshot:
            return "latest_snapshot";
        case restore_point_kind::snapshot_id:
            return "snapshot_id";
        case restore_point_kind::point_in_time:
            return "point_in_time_utc_millis";
        case restore_point_kind::oplog:
            return "oplog";
        case restore_point_kind::checkpoint_id:
            return "checkpoint_id";
    }
    return "?";
}

const char* to_string(mismatch_action a) {
    return a == mismatch_action::keep ? "keep" : "delete";
}

const profile* find_profile(const configuration& c, const std::string& name) {
    for (const auto& p : c.profiles) {
        if (p.name == name) {
            return &p;
        }
    }
    return nullptr;
}

const policy* find_policy(const configuration& c, const std::string& name) {
    for (const auto& p : c.policies) {
        if (p.name == name) {
            return &p;
        }
    }
    return nullptr;
}

const atlas_settings* settings_for(const configuration& c, const policy& p) {
    if (!p.profile) {
        return &c.atlas;
    }
    const profile* found = find_profile(c, *p.profile);
    return found ? &found->atlas : nullptr;
}

}  // namespace atlas_restored::config
