#pragma once
// Internal to the config module: typed reading of yaml-cpp nodes that records a problem (file, line,
// field path) instead of throwing, so one pass reports every mistake in a file.

#include "config/config.hpp"
#include "config/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atlas_restored::config::detail {

// A 1-based position from a yaml-cpp mark (0 when yaml-cpp has none).
inline int line_of(const YAML::Mark& m) {
    return m.is_null() || m.line < 0 ? 0 : m.line + 1;
}
inline int column_of(const YAML::Mark& m) {
    return m.is_null() || m.column < 0 ? 0 : m.column + 1;
}

std::string join_path(const std::string& parent, std::string_view key);
std::string index_path(const std::string& parent, std::size_t index);

// The problems of one file.
class problem_sink {
  public:
    problem_sink(std::string file, std::vector<config_problem>& problems)
        : file_(std::move(file)), problems_(problems) {}

    void add(const YAML::Mark& at, const std::string& path, std::string message);
    void add_line(int line, const std::string& path, std::string message);
    const std::string& file() const { return file_; }
    location where(const YAML::Mark& at) const { return {file_, line_of(at), column_of(at)}; }
    std::size_t count() const { return problems_.size(); }

  private:
    std::string file_;
    std::vector<config_problem>& problems_;
};

// One key: value pair of a mapping.
struct entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
    std::string path;  // full field path of the value

    // yaml-cpp marks an empty value at the next token, possibly lines later: report it at its key.
    YAML::Mark mark() const;
    bool is_null() const { return value.IsNull(); }
};

// Reads a mapping whose allowed keys are known. Reports: not a mapping, non-scalar keys, duplicate
// keys, unknown keys (with "did you mean" for a close match), and inline secrets (an unknown key K
// where K_file is allowed).
class map_reader {
  public:
    map_reader(problem_sink& sink,
               const YAML::Node& node,
               const YAML::Mark& fallback,
               std::string path,
               std::vector<std::string_view> allowed);

    bool ok() const { return ok_; }  // the node was a mapping
    const entry* get(std::string_view key) const;
    const std::vector<entry>& entries() const { return entries_; }
    const std::string& path() const { return path_; }
    const YAML::Mark& mark() const { return mark_; }

  private:
    bool ok_ = false;
    std::string path_;
    YAML::Mark mark_;
    std::vector<entry> entries_;
};

// Typed values. Each returns nullopt after recording a problem. A null value (`key:` with nothing)
// is reported as the wrong type.
std::optional<std::string> read_string(problem_sink& sink, const entry& e, bool allow_empty = false);
std::optional<std::int64_t> read_int(problem_sink& sink,
                                     const entry& e,
                                     std::int64_t min,
                                     std::int64_t max = INT64_MAX);
std::optional<double> read_number(problem_sink& sink, const entry& e, double min, double max);
std::optional<bool> read_bool(problem_sink& sink, const entry& e);
std::optional<duration> read_duration(problem_sink& sink, const entry& e, duration min = duration{0});
// A size in bytes: an integer, or with a unit (KiB MiB GiB TiB, KB MB GB TB, B).
std::optional<std::uint64_t> read_size(problem_sink& sink, const entry& e);
// A list of strings; when allow_single, a lone string counts as a list of one.
std::optional<std::vector<std::string>> read_string_list(problem_sink& sink,
                                                         const entry& e,
                                                         bool allow_single = false);
// One of the given words.
std::optional<std::string> read_enum(problem_sink& sink,
                                     const entry& e,
                                     std::vector<std::string_view> allowed);

// "'a', 'b' or 'c'".
std::string quoted_alternatives(const std::vector<std::string_view>& words);

}  // namespace atlas_restored::config::detail
