#pragma once
// A run keeps the policy settings it was started with (runs.policy_json), so that a reload never
// changes a run in flight and a run whose policy was removed still finishes after a restart. Only
// what a run uses is kept: not the schedule, time zone, jitter or source lines. A policy holds no
// secret (it names a profile, never a credential), so the text is safe to store.

#include "config/config.hpp"
#include "util/error.hpp"

#include <string>
#include <string_view>

namespace atlas_restored::runs {

std::string policy_to_json(const config::policy& p);

// errc::invalid_input naming the field when the text is not what policy_to_json writes.
result<config::policy> policy_from_json(std::string_view text);

}  // namespace atlas_restored::runs
