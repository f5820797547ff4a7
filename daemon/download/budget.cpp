#include "download/budget.hpp"

#include <algorithm>
#include <cmath>

namespace atlas_restored::download {

namespace {

std::string seconds_text(std::chrono::seconds s) {
    const auto n = s.count();
    if (n < 120) {
        return std::to_string(n) + " s";
    }
    if (n < 7200) {
        return std::to_string(n / 60) + " min";
    }
    return std::to_string(n / 3600) + " h " + std::to_string((n % 3600) / 60) + " min";
}

}  // namespace

budget_decision decide_attempt(const budget_input& in) {
    budget_decision out;
    if (in.bytes_per_second && *in.bytes_per_second > 0) {
        out.estimated_duration = std::chrono::seconds(static_cast<std::int64_t>(
            std::ceil(static_cast<double>(in.bytes_remaining) / *in.bytes_per_second)));
    }

    if (in.max_downloads) {
        const int spent = std::max(0, in.attempts_counted - in.attempts_not_sent);
        if (spent >= *in.max_downloads) {
            out.go = false;
            const std::string used =
                std::to_string(spent) + " of maxDownloads " + std::to_string(*in.max_downloads);
            if (in.last_attempt_mismatched) {
                out.reason = reason::sha1_mismatch;
                out.message = "the last allowed download failed SHA1 verification (" + used + " used)";
            } else {
                out.reason = reason::download_budget_exhausted;
                out.message =
                    "the download budget is spent (" + used + " used) before a complete file was obtained";
            }
            return out;
        }
    }

    if (in.expires) {
        if (in.now + in.expiry_margin >= *in.expires) {
            out.go = false;
            out.reason = reason::link_expired;
            out.message = in.now >= *in.expires
                              ? "the download link expired at " + format_iso8601(*in.expires)
                              : "the download link expires at " + format_iso8601(*in.expires) +
                                    ", too soon to start a download";
            return out;
        }
        out.warn_expiring = should_warn_expiring(in.now, *in.expires, in.lifetime);
        if (out.estimated_duration && in.now + *out.estimated_duration > *in.expires) {
            out.message = "at the measured rate the download needs about " +
                          seconds_text(*out.estimated_duration) + " and the link expires at " +
                          format_iso8601(*in.expires);
        }
    }
    return out;
}

bool should_warn_expiring(sys_time now, sys_time expires, std::optional<std::chrono::seconds> lifetime) {
    if (now >= expires) {
        return false;  // already expired: that is a failure, not a warning
    }
    const auto left = expires - now;
    if (lifetime && lifetime->count() > 0) {
        return left * 4 <= *lifetime;
    }
    return left <= std::chrono::hours(1);
}

std::optional<std::chrono::seconds> link_lifetime(const atlas::delivery& d, std::optional<sys_time> created) {
    if (d.expiration_hours && *d.expiration_hours > 0) {
        return std::chrono::hours(*d.expiration_hours);
    }
    if (d.expires && created) {
        if (auto expires = parse_iso8601(*d.expires); expires && *expires > *created) {
            return std::chrono::duration_cast<std::chrono::seconds>(*expires - *created);
        }
    }
    return std::nullopt;
}

std::optional<std::string> reason_for_delivery_status(std::string_view status, bool last_attempt_mismatched) {
    if (status == atlas::delivery_status::failed) {
        return std::string(reason::delivery_failed);
    }
    if (status == atlas::delivery_status::interrupted) {
        return std::string(reason::delivery_interrupted);
    }
    if (status == atlas::delivery_status::expired) {
        return std::string(reason::link_expired);
    }
    if (status == atlas::delivery_status::max_downloads_exceeded) {
        return std::string(last_attempt_mismatched ? reason::sha1_mismatch
                                                   : reason::download_budget_exhausted);
    }
    return std::nullopt;
}

std::chrono::milliseconds retry_delay(int failures,
                                      std::chrono::milliseconds initial,
                                      std::chrono::milliseconds cap,
                                      double random01) {
    double ceiling = static_cast<double>(initial.count());
    for (int i = 0; i < failures && ceiling < static_cast<double>(cap.count()); ++i) {
        ceiling *= 2;
    }
    ceiling = std::min(ceiling, static_cast<double>(cap.count()));
    const double share = std::clamp(random01, 0.0, 1.0);
    return std::chrono::milliseconds(static_cast<std::int64_t>(ceiling * share));
}

}  // namespace atlas_restored::download
