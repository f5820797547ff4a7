#include "metrics/text_format.hpp"

#include <charconv>
#include <cmath>
#include <system_error>

namespace atlas_restored::metrics {
namespace {

const char* type_name(metric_type t) {
    switch (t) {
        case metric_type::counter:
            return "counter";
        case metric_type::gauge:
            return "gauge";
        case metric_type::histogram:
            return "histogram";
    }
    return "untyped";
}

}  // namespace

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string escape_help(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string format_value(double value) {
    if (std::isnan(value)) {
        return "NaN";
    }
    if (std::isinf(value)) {
        return value > 0 ? "+Inf" : "-Inf";
    }
    char buffer[64];
    // Whole numbers (counts, bytes, Unix seconds) as integers: "1000000", not the shorter "1e+06".
    if (value == std::trunc(value) && std::fabs(value) <= 9007199254740992.0) {
        auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, static_cast<long long>(value));
        return std::string(buffer, end);
    }
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    if (ec != std::errc()) {  // cannot happen with 64 bytes; keep the output well-formed anyway
        return "NaN";
    }
    return std::string(buffer, end);
}

std::string render(const std::vector<family>& families) {
    std::string out;
    for (const auto& f : families) {
        out += "# HELP ";
        out += f.name;
        out += ' ';
        out += escape_help(f.help);
        out += "\n# TYPE ";
        out += f.name;
        out += ' ';
        out += type_name(f.type);
        out += '\n';
        for (const auto& s : f.samples) {
            out += f.name;
            out += s.suffix;
            if (!s.labels.empty()) {
                out += '{';
                bool first = true;
                for (const auto& l : s.labels) {
                    if (!first) {
                        out += ',';
                    }
                    first = false;
                    out += l.name;
                    out += "=\"";
                    out += escape_label_value(l.value);
                    out += '"';
                }
                out += '}';
            }
            out += ' ';
            out += format_value(s.value);
            out += '\n';
        }
    }
    return out;
}

}  // namespace atlas_restored::metrics
