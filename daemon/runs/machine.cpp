#include "runs/machine.hpp"

#include "state/store.hpp"

#include <array>
#include <utility>

namespace atlas_restored::runs {
namespace {

constexpr std::array<std::pair<run_state, const char*>, 8> state_names{{
    {run_state::pending, "pending"},
    {run_state::submitting, "submitting"},
    {run_state::waiting, "waiting"},
    {run_state::downloading, "downloading"},
    {run_state::verifying, "verifying"},
    {run_state::succeeded, "succeeded"},
    {run_state::failed, "failed"},
    {run_state::cancelled, "cancelled"},
}};

constexpr std::array<std::pair<reason, const char*>, 12> reason_names{{
    {reason::preflight_failed, "preflight_failed"},
    {reason::submit_failed, "submit_failed"},
    {reason::job_broken, "job_broken"},
    {reason::job_killed, "job_killed"},
    {reason::delivery_failed, "delivery_failed"},
    {reason::delivery_interrupted, "delivery_interrupted"},
    {reason::link_expired, "link_expired"},
    {reason::download_budget_exhausted, "download_budget_exhausted"},
    {reason::sha1_mismatch, "sha1_mismatch"},
    {reason::disk_full, "disk_full"},
    {reason::after_download_failed, "after_download_failed"},
    {reason::deadline_exceeded, "deadline_exceeded"},
}};

}  // namespace

const char* to_string(run_state s) {
    for (const auto& [state, name] : state_names) {
        if (state == s) {
            return name;
        }
    }
    return "unknown";
}

std::optional<run_state> parse_run_state(std::string_view text) {
    for (const auto& [state, name] : state_names) {
        if (text == name) {
            return state;
        }
    }
    return std::nullopt;
}

bool is_final(run_state s) {
    return s == run_state::succeeded || s == run_state::failed || s == run_state::cancelled;
}

bool can_transition(run_state from, run_state to) {
    using enum run_state;
    if (is_final(from) || from == to) {
        return false;
    }
    // Any unfinished run may fail or be cancelled.
    if (to == failed || to == cancelled) {
        return true;
    }
    switch (from) {
        case pending:
            return to == submitting;
        case submitting:
            return to == waiting;
        case waiting:
            // downloading: HTTP deliveries READY; succeeded: AUTOMATED_RESTORE finished;
            // submitting: a link expired before we could use it and the policy resubmits.
            return to == downloading || to == succeeded || to == submitting;
        case downloading:
            return to == verifying || to == submitting;
        case verifying:
            return to == succeeded;
        default:
            return false;
    }
}

result<void> check_transition(run_state from, run_state to) {
    if (can_transition(from, to)) {
        return {};
    }
    return make_error(errc::invalid_input,
                      std::string("a run cannot go from ") + to_string(from) + " to " + to_string(to));
}

const char* to_string(reason r) {
    for (const auto& [value, name] : reason_names) {
        if (value == r) {
            return name;
        }
    }
    return "unknown";
}

std::optional<reason> parse_reason(std::string_view code) {
    for (const auto& [value, name] : reason_names) {
        if (code == name) {
            return value;
        }
    }
    return std::nullopt;
}

std::string format_error(reason r, std::string_view sentence) {
    return state::strip_urls(std::string(to_string(r)) + ": " + std::string(sentence));
}

std::optional<reason> reason_of(std::string_view error_text) {
    const auto colon = error_text.find(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    return parse_reason(error_text.substr(0, colon));
}

}  // namespace atlas_restored::runs
