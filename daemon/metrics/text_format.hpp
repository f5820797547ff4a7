#pragma once
// Prometheus text exposition format 0.0.4, as a pure function of plain values: the recorder turns
// its state into families, render() turns families into the text a scrape receives. No I/O here.

#include <string>
#include <string_view>
#include <vector>

namespace atlas_restored::metrics {

// The Content-Type a scrape answer carries.
inline constexpr std::string_view text_content_type = "text/plain; version=0.0.4; charset=utf-8";

enum class metric_type { counter, gauge, histogram };

struct label {
    std::string name;
    std::string value;
};

struct sample {
    std::string suffix;  // "" or, for histograms, "_bucket", "_sum", "_count"
    std::vector<label> labels;
    double value = 0;
};

struct family {
    std::string name;  // full name, e.g. "atlas_restored_runs_total"
    std::string help;
    metric_type type = metric_type::gauge;
    std::vector<sample> samples;  // in the order they are written
};

// "# HELP", "# TYPE" and one line per sample for each family, in the given order. A family without
// samples still gets its HELP and TYPE lines, so a scrape shows what exists before it happened.
std::string render(const std::vector<family>& families);

// Label values: backslash, double quote and line feed escaped as \\, \" and \n.
std::string escape_label_value(std::string_view value);
// HELP text: backslash and line feed escaped (quotes stay as they are).
std::string escape_help(std::string_view text);
// The shortest text that reads back as the same double; +Inf, -Inf and NaN as Prometheus spells them.
std::string format_value(double value);

}  // namespace atlas_restored::metrics
