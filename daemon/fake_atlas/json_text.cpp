#include "fake_atlas/json_text.hpp"

#include <boost/json/serialize.hpp>

namespace atlas_restored::fake_atlas {

namespace {

// Boost.JSON 1.81 has no pretty printer; this one indents by two spaces like most servers do.
void write_pretty(std::string& out, const boost::json::value& v, int depth) {
    const std::string indent(2 * (depth + 1), ' ');
    const std::string closing(2 * depth, ' ');
    if (const auto* o = v.if_object()) {
        if (o->empty()) {
            out += "{}";
            return;
        }
        out += "{\n";
        bool first = true;
        for (const auto& [key, member] : *o) {
            if (!first) {
                out += ",\n";
            }
            first = false;
            out += indent;
            out += boost::json::serialize(boost::json::string(key));
            out += " : ";
            write_pretty(out, member, depth + 1);
        }
        out += "\n" + closing + "}";
    } else if (const auto* a = v.if_array()) {
        if (a->empty()) {
            out += "[]";
            return;
        }
        out += "[\n";
        bool first = true;
        for (const auto& item : *a) {
            if (!first) {
                out += ",\n";
            }
            first = false;
            out += indent;
            write_pretty(out, item, depth + 1);
        }
        out += "\n" + closing + "]";
    } else {
        out += boost::json::serialize(v);
    }
}

}  // namespace

std::string to_json_text(const boost::json::value& v, bool pretty) {
    if (!pretty) {
        return boost::json::serialize(v);
    }
    std::string out;
    write_pretty(out, v, 0);
    out += "\n";
    return out;
}

}  // namespace atlas_restored::fake_atlas
