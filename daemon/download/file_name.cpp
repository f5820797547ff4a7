#include "download/file_name.hpp"

#include "http/message.hpp"

namespace atlas_restored::download {

namespace {

result<std::string> refuse(std::string_view candidate, std::string_view why) {
    return make_error(errc::invalid_input,
                      "the server's file name \"" + printable_name(candidate) +
                          "\" is not a plain file name (" + std::string(why) + "); it was refused");
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

}  // namespace

std::string printable_name(std::string_view candidate) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (char ch : candidate.substr(0, 80)) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            out += "\\x";
            out += digits[c >> 4];
            out += digits[c & 15];
        } else {
            out += ch;
        }
    }
    if (candidate.size() > 80) {
        out += "…";
    }
    return out;
}

result<std::string> safe_file_name(std::string_view candidate) {
    if (candidate.empty()) {
        return refuse(candidate, "it is empty");
    }
    if (candidate == "." || candidate == "..") {
        return refuse(candidate, "it names a directory");
    }
    if (candidate.size() > max_file_name_bytes) {
        return refuse(candidate, "longer than " + std::to_string(max_file_name_bytes) + " bytes");
    }
    for (char ch : candidate) {
        const auto c = static_cast<unsigned char>(ch);
        if (ch == '/' || ch == '\\') {
            return refuse(candidate, "it contains a path separator");
        }
        if (c < 0x20 || c == 0x7f) {
            return refuse(candidate, "it contains a control character");
        }
    }
    return std::string(candidate);
}

result<std::string> file_name_from_url(std::string_view url) {
    auto parsed = http::parse_https_url(url);
    if (!parsed) {
        // The parser's message may quote the URL: say only what kind of thing was wrong.
        return make_error(errc::invalid_input, "the download URL is not a usable https URL");
    }
    std::string_view path = parsed->target;
    if (auto q = path.find_first_of("?#"); q != std::string_view::npos) {
        path = path.substr(0, q);
    }
    const auto slash = path.rfind('/');
    const std::string_view segment = slash == std::string_view::npos ? path : path.substr(slash + 1);
    std::string decoded;
    for (std::size_t i = 0; i < segment.size(); ++i) {
        if (segment[i] != '%') {
            decoded += segment[i];
            continue;
        }
        const int hi = i + 2 < segment.size() ? hex_value(segment[i + 1]) : -1;
        const int lo = i + 2 < segment.size() ? hex_value(segment[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            return refuse(segment, "a broken percent-encoding");
        }
        decoded += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return safe_file_name(decoded);
}

result<std::string> file_name_for_job(const atlas::restore_job& job) {
    if (job.hashes.size() == 1 && !job.hashes.front().file_name.empty()) {
        return safe_file_name(job.hashes.front().file_name);
    }
    const auto& d = job.delivery_info;
    if (d.url_v2 && !d.url_v2->empty()) {
        return file_name_from_url(*d.url_v2);
    }
    if (d.url && !d.url->empty()) {
        return file_name_from_url(*d.url);
    }
    return make_error(errc::invalid_input, "restore job " + job.id + " has no download link");
}

const atlas::file_hash* find_hash(const atlas::restore_job& job, std::string_view file_name) {
    for (const auto& h : job.hashes) {
        if (h.file_name == file_name) {
            return &h;
        }
    }
    return job.hashes.size() == 1 ? &job.hashes.front() : nullptr;
}

}  // namespace atlas_restored::download
