#include "app/control_protocol.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

namespace atlas_restored::app {

namespace json = boost::json;

namespace {

error bad(std::string message) {
    return make_error(errc::invalid_input, std::move(message));
}

result<json::object> parse_object(std::string_view line, std::string_view what) {
    if (line.size() > max_control_line) {
        return bad(std::string(what) + " is longer than " + std::to_string(max_control_line) + " bytes");
    }
    boost::system::error_code ec;
    auto value = json::parse(line, ec);
    if (ec || !value.is_object()) {
        return bad(std::string(what) + " is not a JSON object");
    }
    return std::move(value.as_object());
}

// A user name as printed in started_by: printable ASCII without spaces, bounded.
bool plausible_user_name(std::string_view name) {
    return !name.empty() && name.size() <= 64 &&
           std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c < 127; });
}

}  // namespace

result<control_request> parse_control_request(std::string_view line) {
    auto object = parse_object(line, "request");
    if (!object) {
        return object.error();
    }
    control_request r;
    const auto* command = object->if_contains("command");
    if (!command || !command->is_string()) {
        return bad("request has no \"command\" string");
    }
    r.command = std::string(command->as_string());
    if (r.command == "run-now") {
        const auto* policy = object->if_contains("policy");
        if (!policy || !policy->is_string() || policy->as_string().empty()) {
            return bad("run-now needs a \"policy\" string");
        }
        r.policy = std::string(policy->as_string());
    } else if (r.command != "ping") {
        return bad("unknown command '" + r.command + "' (known: run-now, ping)");
    }
    if (const auto* sudo = object->if_contains("sudo_user")) {
        // A claim only (root's word for who ran sudo): something that is not a user name is dropped.
        if (sudo->is_string() && plausible_user_name(sudo->as_string())) {
            r.sudo_user = std::string(sudo->as_string());
        }
    }
    return r;
}

std::string format_control_request(const control_request& request) {
    json::object o;
    o["command"] = request.command;
    if (!request.policy.empty()) {
        o["policy"] = request.policy;
    }
    if (request.sudo_user) {
        o["sudo_user"] = *request.sudo_user;
    }
    return json::serialize(o) + "\n";
}

result<control_response> parse_control_response(std::string_view line) {
    auto object = parse_object(line, "the daemon's answer");
    if (!object) {
        return object.error();
    }
    control_response r;
    const auto* ok = object->if_contains("ok");
    if (!ok || !ok->is_bool()) {
        return bad("the daemon's answer has no \"ok\" boolean");
    }
    r.ok = ok->as_bool();
    for (const auto& [key, value] : *object) {
        if (key == "ok") {
            continue;
        }
        if (key == "run_id" && value.is_string()) {
            r.run_id = std::string(value.as_string());
        } else if (key == "error" && value.is_string()) {
            r.error = std::string(value.as_string());
        } else {
            r.extra[key] = value;
        }
    }
    if (!r.ok && r.error.empty()) {
        r.error = "the daemon refused the request without saying why";
    }
    return r;
}

std::string format_control_response(const control_response& response) {
    json::object o = response.extra;
    o["ok"] = response.ok;
    if (!response.run_id.empty()) {
        o["run_id"] = response.run_id;
    }
    if (!response.ok) {
        o["error"] = response.error;
    }
    return json::serialize(o) + "\n";
}

std::string describe_caller(unsigned uid,
                            const std::optional<std::string>& user_name,
                            const std::optional<std::string>& sudo_user) {
    std::string who =
        user_name && plausible_user_name(*user_name) ? *user_name : "uid " + std::to_string(uid);
    if (uid == 0 && sudo_user && plausible_user_name(*sudo_user)) {
        who += " (sudo: " + *sudo_user + ")";
    }
    return who;
}

}  // namespace atlas_restored::app
