#include "atlas/redact.hpp"

#include "http/message.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <vector>

namespace atlas_restored::atlas {
namespace {

std::string redact_url_v2(std::string_view url) {
    return http::redact_url(url);
}

}  // namespace

void redact_secrets(delivery& d) {
    if (d.auth_value) {
        d.auth_value = std::string(redacted_text);
    }
    if (d.url) {
        d.url = std::string(redacted_text);
    }
    if (d.url_v2) {
        d.url_v2 = redact_url_v2(*d.url_v2);
    }
}

void redact_secrets(restore_job& j) {
    redact_secrets(j.delivery_info);
}

void redact_secrets(page<restore_job>& p) {
    for (auto& j : p.results) {
        redact_secrets(j);
    }
}

void redact_secrets(boost::json::value& root) {
    std::vector<boost::json::value*> pending{&root};
    while (!pending.empty()) {
        boost::json::value* v = pending.back();
        pending.pop_back();
        if (auto* o = v->if_object()) {
            for (auto& member : *o) {
                boost::json::value& m = member.value();
                if (m.is_string() && (member.key() == "authValue" || member.key() == "url")) {
                    m = redacted_text;
                } else if (m.is_string() && member.key() == "urlV2") {
                    m = redact_url_v2(m.get_string());
                } else if (m.is_object() || m.is_array()) {
                    pending.push_back(&m);
                }
            }
        } else if (auto* a = v->if_array()) {
            for (auto& element : *a) {
                if (element.is_object() || element.is_array()) {
                    pending.push_back(&element);
                }
            }
        }
    }
}

}  // namespace atlas_restored::atlas
