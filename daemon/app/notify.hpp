#pragma once
// systemd's notification protocol (Type=notify, sd_notify(3)): READY/RELOADING/STOPPING, the
// STATUS= line and the watchdog. The messages are built by pure functions; sending goes through
// libsystemd's sd_notify(), which does nothing when $NOTIFY_SOCKET is unset.

#include "runs/engine.hpp"
#include "util/units.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace atlas_restored::app {

// "3 active runs, 1 queued, 2 downloads (1.5 GiB of 4.0 GiB)" — the STATUS= text.
std::string describe_summary(const runs::engine_summary& s);

std::string ready_message(std::string_view status);
// RELOADING=1 with the CLOCK_MONOTONIC time in microseconds, as Type=notify-reload expects.
std::string reloading_message(std::uint64_t monotonic_usec);
std::string reload_failed_message(std::string_view why);  // STATUS=reload failed: … + READY=1
std::string stopping_message();
std::string status_message(std::string_view status);
std::string watchdog_message();

std::uint64_t monotonic_usec_now();

// How often to pet the watchdog: half of $WATCHDOG_USEC when systemd enabled it for this
// process (sd_watchdog_enabled), nullopt otherwise.
std::optional<std::chrono::microseconds> watchdog_ping_interval();

// Sends one notification; false if it could not be delivered (not an error outside systemd).
bool notify_systemd(const std::string& message);

}  // namespace atlas_restored::app
