#pragma once
// Shared helpers for the config tests: real files in a temporary directory.

#include "config/loader.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace atlas_restored::config::testing {

// 2026-11-28T12:00:00Z: a fixed "now" for loading.
inline std::chrono::system_clock::time_point test_now() {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1795867200));
}

// A valid atlas: section (credential file names only).
inline const char* atlas_section =
    "atlas:\n"
    "  auth:\n"
    "    service_account:\n"
    "      client_id: mdb_sa_id_0123\n"
    "      client_secret_file: /run/credentials/atlas-secret\n";

// A valid HTTP policy as a list item, indented for policies:.
inline std::string http_policy(const std::string& name) {
    return "  - name: " + name +
           "\n"
           "    group_id: 32b6e34b3d91647abb20e7b8\n"
           "    cluster: orders-prod\n"
           "    restore_point: { latest_snapshot: true }\n"
           "    delivery: { method: HTTP }\n";
}

// A policy "p" with the given restore_point value and delivery block (indented 6 spaces).
inline std::string policy_with(const std::string& restore_point, const std::string& delivery) {
    return std::string(atlas_section) +
           "policies:\n"
           "  - name: p\n"
           "    group_id: 32b6e34b3d91647abb20e7b8\n"
           "    cluster: orders-prod\n"
           "    restore_point: " +
           restore_point +
           "\n"
           "    delivery:\n" +
           delivery;
}

// The 1-based line of the first occurrence of `needle` in `text` (0 if absent): tests name the line
// they expect by its content, not by counting.
inline int line_containing(const std::string& text, const std::string& needle) {
    auto at = text.find(needle);
    if (at == std::string::npos) {
        return 0;
    }
    return 1 +
           static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

// The problems whose field path is `path`.
inline std::vector<config_problem> at_path(const std::vector<config_problem>& problems,
                                           const std::string& path) {
    std::vector<config_problem> out;
    for (const auto& p : problems) {
        if (p.field_path == path) {
            out.push_back(p);
        }
    }
    return out;
}

class config_test : public ::testing::Test {
  protected:
    // Writes `text` as dir/name and returns its path.
    std::filesystem::path write(const std::string& name, const std::string& text) {
        auto path = dir_ / name;
        atlas_restored::testing::write_file(path, text);
        return path;
    }

    load_result load(const std::string& main_text) {
        return load_configuration(write("main.yaml", main_text), test_now());
    }

    // Loads text that must fail; returns the problems.
    std::vector<config_problem> problems_of(const std::string& main_text) {
        auto r = load(main_text);
        EXPECT_FALSE(r.has_value()) << "expected the configuration to be refused";
        return r.has_value() ? std::vector<config_problem>{} : r.error();
    }

    // Loads text that must succeed.
    configuration loaded(const std::string& main_text) {
        auto r = load(main_text);
        if (!r.has_value()) {
            std::string all;
            for (const auto& p : r.error()) {
                all += format_problem(p) + "\n";
            }
            ADD_FAILURE() << "unexpected problems:\n" << all;
            return {};
        }
        return *r;
    }

    static std::string all_text(const std::vector<config_problem>& problems) {
        std::string out;
        for (const auto& p : problems) {
            out += format_problem(p) + "\n";
        }
        return out;
    }

    atlas_restored::testing::temp_dir dir_{"config-test"};
};

}  // namespace atlas_restored::config::testing
