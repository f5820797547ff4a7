#include "app/notify.hpp"

#include <systemd/sd-daemon.h>

#include <cstdio>
#include <ctime>

namespace atlas_restored::app {

std::string describe_summary(const runs::engine_summary& s) {
    std::string text = std::to_string(s.active_runs) +
                       (s.active_runs == 1 ? " active run, " : " active runs, ") +
                       std::to_string(s.queued_runs) + " queued, " + std::to_string(s.active_downloads) +
                       (s.active_downloads == 1 ? " download" : " downloads");
    if (s.active_downloads > 0) {
        text += " (" + human_bytes(s.download_bytes_done);
        if (s.download_bytes_total > 0) {
            text += " of " + human_bytes(s.download_bytes_total);
        }
        text += ")";
    }
    return text;
}

namespace {

// STATUS= takes one line: newlines would start a new (unintended) assignment.
std::string one_line(std::string_view text) {
    std::string out(text);
    for (auto& c : out) {
        if (c == '\n' || c == '\r') {
            c = ' ';
        }
    }
    return out;
}

}  // namespace

std::string ready_message(std::string_view status) {
    return "READY=1\nSTATUS=" + one_line(status);
}

std::string reloading_message(std::uint64_t monotonic_usec) {
    return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec) +
           "\nSTATUS=reloading the configuration";
}

std::string reload_failed_message(std::string_view why) {
    return "READY=1\nSTATUS=reload failed: " + one_line(why);
}

std::string stopping_message() {
    return "STOPPING=1\nSTATUS=stopping";
}

std::string status_message(std::string_view status) {
    return "STATUS=" + one_line(status);
}

std::string watchdog_message() {
    return "WATCHDOG=1";
}

std::uint64_t monotonic_usec_now() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

std::optional<std::chrono::microseconds> watchdog_ping_interval() {
    std::uint64_t usec = 0;
    if (::sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) {
        return std::nullopt;
    }
    return std::chrono::microseconds(static_cast<std::int64_t>(usec / 2));
}

bool notify_systemd(const std::string& message) {
    return ::sd_notify(0, message.c_str()) > 0;
}

}  // namespace atlas_restored::app
