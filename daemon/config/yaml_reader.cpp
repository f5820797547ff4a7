#include "config/yaml_reader.hpp"

#include "schedule/duration.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

namespace atlas_restored::config {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

}  // namespace atlas_restored::config

namespace atlas_restored::config::detail {

std::string join_path(const std::string& parent, std::string_view key) {
    if (parent.empty()) {
        return std::string(key);
    }
    return parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, std::size_t index) {
    return parent + "[" + std::to_string(index) + "]";
}

void problem_sink::add(const YAML::Mark& at, const std::string& path, std::string message) {
    problems_.push_back({file_, line_of(at), column_of(at), path, std::move(message)});
}

void problem_sink::add_line(int line, const std::string& path, std::string message) {
    problems_.push_back({file_, line, 0, path, std::move(message)});
}

YAML::Mark entry::mark() const {
    if (value.IsNull() || value.Mark().is_null()) {
        return key_node.Mark();
    }
    return value.Mark();
}

std::string quoted_alternatives(const std::vector<std::string_view>& words) {
    std::string out;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i > 0) {
            out += i + 1 == words.size() ? " or " : ", ";
        }
        out += "'" + std::string(words[i]) + "'";
    }
    return out;
}

namespace {

std::optional<std::string_view> closest(std::string_view word,
                                        const std::vector<std::string_view>& candidates) {
    std::optional<std::string_view> best;
    std::size_t best_distance = 3;
    for (auto candidate : candidates) {
        auto d = edit_distance(word, candidate);
        // "on" vs "ts" is distance 2 but no typo: the suggestion must keep most of the word.
        if (d < best_distance && d < std::max(word.size(), candidate.size()) / 2 + 1) {
            best = candidate;
            best_distance = d;
        }
    }
    return best;
}

const char* type_name(const YAML::Node& n) {
    switch (n.Type()) {
        case YAML::NodeType::Map:
            return "a mapping";
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Null:
            return "empty";
        default:
            return "a scalar";
    }
}

// True when the scalar was written in quotes (yaml-cpp tags quoted scalars "!").
bool quoted(const YAML::Node& n) {
    return n.Tag() == "!";
}

}  // namespace

map_reader::map_reader(problem_sink& sink,
                       const YAML::Node& node,
                       const YAML::Mark& fallback,
                       std::string path,
                       std::vector<std::string_view> allowed)
    : path_(std::move(path)), mark_(node.Mark().is_null() ? fallback : node.Mark()) {
    if (!node.IsMap()) {
        sink.add(node.IsNull() ? fallback : node.Mark(),
                 path_,
                 std::string("must be a mapping (key: value), not ") + type_name(node));
        return;
    }
    ok_ = true;
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
        const YAML::Node key = it->first;  // a copy: it->first is a temporary
        if (!key.IsScalar()) {
            sink.add(key.Mark(), path_, "keys must be plain words");
            continue;
        }
        std::string name = key.Scalar();
        std::string field = join_path(path_, name);
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
            std::string file_key = name + "_file";
            if (std::find(allowed.begin(), allowed.end(), file_key) != allowed.end()) {
                std::string env_key = name + "_env";
                bool has_env = std::find(allowed.begin(), allowed.end(), env_key) != allowed.end();
                sink.add(key.Mark(),
                         field,
                         "secrets are read from files: use " + file_key + (has_env ? ", or " + env_key : "") +
                             " (the value written here is not used)");
            } else if (auto suggestion = closest(name, allowed)) {
                sink.add(key.Mark(),
                         field,
                         "unknown key '" + name + "'; did you mean '" + std::string(*suggestion) + "'?");
            } else {
                sink.add(key.Mark(),
                         field,
                         "unknown key '" + name + "'; allowed here: " + quoted_alternatives(allowed));
            }
            continue;
        }
        if (!seen.insert(name).second) {
            sink.add(key.Mark(), field, "duplicate key '" + name + "'");
            continue;
        }
        entries_.push_back({name, key, it->second, field});
    }
}

const entry* map_reader::get(std::string_view key) const {
    for (const auto& e : entries_) {
        if (e.key == key) {
            return &e;
        }
    }
    return nullptr;
}

std::optional<std::string> read_string(problem_sink& sink, const entry& e, bool allow_empty) {
    if (!e.value.IsScalar()) {
        sink.add(e.mark(), e.path, std::string("must be a string, not ") + type_name(e.value));
        return std::nullopt;
    }
    if (!allow_empty && e.value.Scalar().empty()) {
        sink.add(e.mark(), e.path, "must not be empty");
        return std::nullopt;
    }
    return e.value.Scalar();
}

std::optional<std::int64_t> read_int(problem_sink& sink, const entry& e, std::int64_t min, std::int64_t max) {
    std::int64_t value = 0;
    bool parsed = false;
    if (e.value.IsScalar() && !quoted(e.value)) {
        const std::string& s = e.value.Scalar();
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
        parsed = ec == std::errc() && end == s.data() + s.size() && !s.empty();
        if (ec == std::errc::result_out_of_range) {
            sink.add(e.mark(), e.path, "is out of range (at most " + std::to_string(max) + ")");
            return std::nullopt;
        }
    }
    if (!parsed) {
        sink.add(e.mark(), e.path, "must be an integer");
        return std::nullopt;
    }
    if (value < min) {
        sink.add(e.mark(), e.path, "must be at least " + std::to_string(min));
        return std::nullopt;
    }
    if (value > max) {
        sink.add(e.mark(), e.path, "must be at most " + std::to_string(max));
        return std::nullopt;
    }
    return value;
}

std::optional<double> read_number(problem_sink& sink, const entry& e, double min, double max) {
    if (e.value.IsScalar() && !quoted(e.value) && !e.value.Scalar().empty()) {
        const std::string& s = e.value.Scalar();
        char* end = nullptr;
        double value = std::strtod(s.c_str(), &end);
        if (end == s.c_str() + s.size() && std::isfinite(value)) {
            if (value < min || value > max) {
                std::ostringstream message;
                message << "must be between " << min << " and " << max;
                sink.add(e.mark(), e.path, message.str());
                return std::nullopt;
            }
            return value;
        }
    }
    sink.add(e.mark(), e.path, "must be a number");
    return std::nullopt;
}

std::optional<bool> read_bool(problem_sink& sink, const entry& e) {
    if (e.value.IsScalar() && !quoted(e.value)) {
        const std::string& s = e.value.Scalar();
        if (s == "true" || s == "True" || s == "TRUE") {
            return true;
        }
        if (s == "false" || s == "False" || s == "FALSE") {
            return false;
        }
    }
    sink.add(e.mark(), e.path, "must be true or false");
    return std::nullopt;
}

std::optional<duration> read_duration(problem_sink& sink, const entry& e, duration min) {
    if (!e.value.IsScalar()) {
        sink.add(e.mark(), e.path, "must be a duration like 30s, 5m, 6h or 7d");
        return std::nullopt;
    }
    auto parsed = schedule::parse_duration(e.value.Scalar());
    if (!parsed) {
        sink.add(e.mark(), e.path, parsed.error().message);
        return std::nullopt;
    }
    auto value = std::chrono::duration_cast<duration>(*parsed);
    if (value < min) {
        sink.add(e.mark(),
                 e.path,
                 min == duration{0} ? "must not be negative"
                                    : "must be at least " + schedule::format_duration(min));
        return std::nullopt;
    }
    return value;
}

std::optional<std::uint64_t> read_size(problem_sink& sink, const entry& e) {
    static const std::vector<std::pair<std::string_view, std::uint64_t>> units = {
        {"KiB", 1ULL << 10},
        {"MiB", 1ULL << 20},
        {"GiB", 1ULL << 30},
        {"TiB", 1ULL << 40},
        {"KB", 1000ULL},
        {"MB", 1000ULL * 1000},
        {"GB", 1000ULL * 1000 * 1000},
        {"TB", 1000ULL * 1000 * 1000 * 1000},
        {"B", 1},
    };
    const char* what =
        "must be a size in bytes: an integer or a number with KiB, MiB, GiB, TiB, KB, MB, GB or TB";
    if (!e.value.IsScalar() || quoted(e.value)) {
        sink.add(e.mark(), e.path, what);
        return std::nullopt;
    }
    std::string s = e.value.Scalar();
    std::uint64_t multiplier = 1;
    for (const auto& [suffix, factor] : units) {
        if (s.size() > suffix.size() && s.ends_with(suffix)) {
            multiplier = factor;
            s.resize(s.size() - suffix.size());
            while (!s.empty() && s.back() == ' ') {
                s.pop_back();
            }
            break;
        }
    }
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
        sink.add(e.mark(), e.path, what);
        return std::nullopt;
    }
    if (value == 0) {
        sink.add(e.mark(), e.path, "must be at least 1 byte");
        return std::nullopt;
    }
    if (value > UINT64_MAX / multiplier) {
        sink.add(e.mark(), e.path, "is out of range");
        return std::nullopt;
    }
    return value * multiplier;
}

std::optional<std::vector<std::string>> read_string_list(problem_sink& sink,
                                                         const entry& e,
                                                         bool allow_single) {
    if (allow_single && e.value.IsScalar()) {
        return std::vector<std::string>{e.value.Scalar()};
    }
    if (!e.value.IsSequence()) {
        sink.add(e.mark(), e.path, "must be a list of strings");
        return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (std::size_t i = 0; i < e.value.size(); ++i) {
        const YAML::Node& item = e.value[i];
        if (!item.IsScalar()) {
            sink.add(item.Mark().is_null() ? e.mark() : item.Mark(),
                     index_path(e.path, i),
                     "must be a string (the value must be a list of strings)");
            ok = false;
            continue;
        }
        out.push_back(item.Scalar());
    }
    if (!ok) {
        return std::nullopt;
    }
    return out;
}

std::optional<std::string> read_enum(problem_sink& sink,
                                     const entry& e,
                                     std::vector<std::string_view> allowed) {
    if (e.value.IsScalar()) {
        const std::string& s = e.value.Scalar();
        if (std::find(allowed.begin(), allowed.end(), s) != allowed.end()) {
            return s;
        }
        if (auto suggestion = closest(s, allowed)) {
            sink.add(e.mark(),
                     e.path,
                     "must be one of " + quoted_alternatives(allowed) + "; did you mean '" +
                         std::string(*suggestion) + "'?");
            return std::nullopt;
        }
    }
    sink.add(e.mark(), e.path, "must be one of " + quoted_alternatives(allowed));
    return std::nullopt;
}

}  // namespace atlas_restored::config::detail
