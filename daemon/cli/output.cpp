#include "cli/output.hpp"

#include <boost/json.hpp>

namespace atlas_restored::cli {
namespace {

void indent(std::string& out, int depth) {
    out.append(static_cast<std::size_t>(depth) * 2, ' ');
}

void write_pretty(std::string& out, const boost::json::value& v, int depth) {
    if (v.is_object()) {
        const auto& object = v.get_object();
        if (object.empty()) {
            out += "{}";
            return;
        }
        out += "{\n";
        bool first = true;
        for (const auto& [key, value] : object) {
            if (!first) {
                out += ",\n";
            }
            first = false;
            indent(out, depth + 1);
            out += boost::json::serialize(boost::json::value(key));
            out += ": ";
            write_pretty(out, value, depth + 1);
        }
        out += "\n";
        indent(out, depth);
        out += "}";
    } else if (v.is_array()) {
        const auto& array = v.get_array();
        if (array.empty()) {
            out += "[]";
            return;
        }
        out += "[\n";
        bool first = true;
        for (const auto& item : array) {
            if (!first) {
                out += ",\n";
            }
            first = false;
            indent(out, depth + 1);
            write_pretty(out, item, depth + 1);
        }
        out += "\n";
        indent(out, depth);
        out += "]";
    } else {
        out += boost::json::serialize(v);
    }
}

}  // namespace

std::string to_json_text(const boost::json::value& document, bool pretty) {
    if (!pretty) {
        return boost::json::serialize(document);
    }
    std::string out;
    write_pretty(out, document, 0);
    return out;
}

}  // namespace atlas_restored::cli
