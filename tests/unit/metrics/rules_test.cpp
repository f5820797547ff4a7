// The Prometheus rule file in config/ only names metrics the recorder exports, and every alert is
// complete (expression, severity, summary). promtool is not available here, so this is the check
// that a renamed metric cannot silently disarm an alert.

#include "metrics/prometheus.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <regex>
#include <set>

namespace atlas_restored::metrics {
namespace {

const std::string rules_file = std::string(SOURCE_DIR) + "/config/prometheus/atlas-restored-rules.yaml";

std::set<std::string> exported_families() {
    prometheus_recorder r;
    const std::string text = r.render();
    std::set<std::string> names;
    const std::regex type_line("# TYPE (\\S+) ");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), type_line); it != std::sregex_iterator();
         ++it) {
        names.insert((*it)[1]);
    }
    return names;
}

TEST(PrometheusRules, EveryAlertIsCompleteAndNamesOnlyExportedMetrics) {
    const YAML::Node doc = YAML::LoadFile(rules_file);
    const auto exported = exported_families();
    const std::regex metric_name("atlas_restored_[a-z_]+");
    std::set<std::string> alerts;
    int rules = 0;
    for (const auto& group : doc["groups"]) {
        ASSERT_TRUE(group["name"]) << "a group without a name";
        for (const auto& rule : group["rules"]) {
            ++rules;
            const std::string alert = rule["alert"].as<std::string>("");
            ASSERT_FALSE(alert.empty()) << "rule " << rules << " has no alert name";
            EXPECT_TRUE(alerts.insert(alert).second) << "duplicate alert " << alert;
            const std::string expr = rule["expr"].as<std::string>("");
            ASSERT_FALSE(expr.empty()) << alert;
            EXPECT_EQ(std::count(expr.begin(), expr.end(), '('), std::count(expr.begin(), expr.end(), ')'))
                << alert;
            const std::string severity = rule["labels"]["severity"].as<std::string>("");
            EXPECT_TRUE(severity == "page" || severity == "ticket") << alert << ": severity " << severity;
            EXPECT_FALSE(rule["annotations"]["summary"].as<std::string>("").empty()) << alert;
            for (auto it = std::sregex_iterator(expr.begin(), expr.end(), metric_name);
                 it != std::sregex_iterator();
                 ++it) {
                EXPECT_TRUE(exported.contains(it->str()))
                    << alert << " uses " << it->str() << ", not exported";
            }
        }
    }
    EXPECT_GE(rules, 5);
    // The alerts issue 5 asks for: the drill dead-man's switch, failing runs, reload failures, down.
    for (const char* required : {"AtlasRestoredDrillOverdue",
                                 "AtlasRestoredRunFailed",
                                 "AtlasRestoredConfigReloadFailed",
                                 "AtlasRestoredDown"}) {
        EXPECT_TRUE(alerts.contains(required)) << required;
    }
}

TEST(PrometheusRules, TheDeadMansSwitchComparesTheDrillAgeWithItsLimit) {
    const YAML::Node doc = YAML::LoadFile(rules_file);
    for (const auto& rule : doc["groups"][0]["rules"]) {
        if (rule["alert"].as<std::string>() == "AtlasRestoredDrillOverdue") {
            const std::string expr = rule["expr"].as<std::string>();
            EXPECT_NE(expr.find("time() - atlas_restored_last_successful_drill_timestamp_seconds"),
                      std::string::npos);
            EXPECT_NE(expr.find("> atlas_restored_drill_max_age_seconds"), std::string::npos);
            return;
        }
    }
    FAIL() << "no AtlasRestoredDrillOverdue rule";
}

}  // namespace
}  // namespace atlas_restored::metrics
