// Downloads of restore files: the delivery's key, the download budget and the expiry, Range and
// If-Range, and the body streamed from the generated archive. A download that streams to the end
// of the file records the file's SHA-1 in the job's hashes.

#include "fake_atlas/call.hpp"
#include "fake_atlas/codec.hpp"
#include "fake_atlas/detail.hpp"
#include "fake_atlas/world.hpp"

#include <limits>

namespace atlas_restored::fake_atlas {

namespace {

struct byte_range {
    std::uint64_t first = 0;
    std::uint64_t last = 0;  // inclusive
};

std::optional<std::uint64_t> to_u64(std::string_view s) {
    if (s.empty() || s.size() > 19) {
        return std::nullopt;
    }
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
}

// One range of "bytes=FIRST-[LAST]" or "bytes=-SUFFIX". `unsatisfiable` when it starts past the
// end; nullopt (serve the whole file) for anything else, as RFC 9110 allows.
struct range_request {
    std::optional<byte_range> range;
    bool unsatisfiable = false;
};

range_request parse_range(std::string_view value, std::uint64_t size) {
    range_request out;
    if (value.substr(0, 6) != "bytes=" || value.find(',') != std::string_view::npos) {
        return out;
    }
    value.remove_prefix(6);
    auto dash = value.find('-');
    if (dash == std::string_view::npos) {
        return out;
    }
    auto first_text = value.substr(0, dash);
    auto last_text = value.substr(dash + 1);
    if (first_text.empty()) {
        auto suffix = to_u64(last_text);
        if (!suffix || *suffix == 0) {
            out.unsatisfiable = suffix.has_value();
            return out;
        }
        out.range = byte_range{size - std::min(size, *suffix), size - 1};
        return out;
    }
    auto first = to_u64(first_text);
    if (!first) {
        return out;
    }
    std::uint64_t last = size - 1;
    if (!last_text.empty()) {
        auto l = to_u64(last_text);
        if (!l || *l < *first) {
            return out;
        }
        last = std::min(*l, size - 1);
    }
    if (*first >= size) {
        out.unsatisfiable = true;
        return out;
    }
    out.range = byte_range{*first, last};
    return out;
}

struct download_stream {
    world* owner = nullptr;
    std::string job_id;
    std::shared_ptr<const archive> file;
    std::uint64_t start = 0;
    std::uint64_t end = 0;                                            // exclusive
    std::uint64_t limit = std::numeric_limits<std::uint64_t>::max();  // body bytes before a cut
    bool truncated = false;
    bool wrong_hash = false;
    bool done = false;
    std::optional<archive_reader> reader;
};

}  // namespace

std::string world::wrong_hash_of(const std::string& sha1) {
    return sha1_hex(sha1 + "#wrong");
}

void world::on_download_complete(const std::string& job_id,
                                 const std::optional<std::string>& sha1,
                                 bool wrong) {
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) {
        return;
    }
    auto& j = it->second;
    ++counters_.downloads_completed;
    std::string hash;
    if (sha1) {
        hash = *sha1;
    } else {
        // The download resumed midway: hash the whole file once.
        if (!j.full_sha1) {
            j.full_sha1 = file_sha1(*j.content);
        }
        hash = *j.full_sha1;
    }
    j.recorded_hash = (wrong || j.always_wrong_hash) ? wrong_hash_of(hash) : hash;
}

http::reply world::download(call& c) {
    const std::string& job_id = c.segments[4];
    const std::string& file = c.segments.back();
    auto it = jobs_.find(job_id);
    if (it == jobs_.end() || it->second.automated || it->second.file_name != file) {
        return error_reply(c, 404, "RESOURCE_NOT_FOUND", "No restore file " + file + " exists.", false);
    }
    job_model& j = it->second;
    c.auth = "download-key";
    const std::string_view presented =
        c.kind == route_kind::download_v2
            ? detail::header(c.req.headers, options_.download_auth_header).value_or("")
            : std::string_view(c.segments[5]);
    if (presented.empty() || !constant_time_equals(presented, j.auth_value)) {
        return unauthorized(
            c,
            c.kind == route_kind::download_v2
                ? "The download needs the delivery's " + options_.download_auth_header + " header."
                : std::string("The download key in the URL is wrong."),
            std::nullopt);
    }
    if (c.fault && c.fault->kind != fault_kind::wrong_hash) {
        apply_job_fault(*c.fault, j, c.now, true);
    }
    const job_view v = view_of(j, c.now, options_.link_ttl);
    if (v.status == "IN_PROGRESS") {
        return error_reply(
            c, 404, "RESOURCE_NOT_FOUND", "Restore job " + j.id + " is not finished yet.", false);
    }
    if (v.delivery_status != "READY") {
        const std::string code = v.delivery_status == "EXPIRED" ? "DOWNLOAD_LINK_EXPIRED"
                                 : v.delivery_status == "MAX_DOWNLOADS_EXCEEDED"
                                     ? "MAX_DOWNLOADS_EXCEEDED"
                                     : "DELIVERY_" + v.delivery_status;
        return error_reply(
            c,
            410,
            code,
            "The download of restore job " + j.id + " is no longer available (" + v.delivery_status + ").",
            false);
    }

    const std::uint64_t size = j.content->size();
    const std::string etag = "\"" + j.id + "-" + std::to_string(size) + "\"";
    std::optional<byte_range> range;
    if (auto h = detail::header(c.req.headers, "Range")) {
        auto if_range = detail::header(c.req.headers, "If-Range");
        // If-Range names the representation the client holds; another one means "send it all".
        if (!if_range || *if_range == etag) {
            auto parsed = parse_range(*h, size);
            if (parsed.unsatisfiable) {
                http::reply r = error_reply(
                    c, 416, "RANGE_NOT_SATISFIABLE", "The range starts past the end of the file.", false);
                r.headers.push_back({"Content-Range", "bytes */" + std::to_string(size)});
                return r;
            }
            range = parsed.range;
        }
    }
    // Every GET that is served counts against maxDownloads, before a byte is sent: a download
    // that breaks off has still used the budget.
    ++j.downloads_used;
    ++counters_.downloads_started;

    auto s = std::make_shared<download_stream>();
    s->owner = this;
    s->job_id = j.id;
    s->file = j.content;
    s->start = range ? range->first : 0;
    s->end = range ? range->last + 1 : size;
    if (c.fault && c.fault->kind == fault_kind::truncate && c.fault->bytes < s->end - s->start) {
        s->truncated = true;
        s->limit = c.fault->bytes;
    }
    s->wrong_hash = c.fault && c.fault->kind == fault_kind::wrong_hash;

    http::reply r;
    r.status = range ? 206 : 200;
    r.headers.push_back({"Content-Type", "application/gzip"});
    r.headers.push_back({"ETag", etag});
    r.headers.push_back({"Accept-Ranges", "bytes"});
    r.headers.push_back({"Content-Disposition", "attachment; filename=\"" + j.file_name + "\""});
    if (range) {
        ++counters_.range_requests;
        r.headers.push_back({"Content-Range",
                             "bytes " + std::to_string(range->first) + "-" + std::to_string(range->last) +
                                 "/" + std::to_string(size)});
    }
    r.content_length = s->end - s->start;
    r.body_source = [s](std::uint64_t offset, std::span<char> out) -> std::size_t {
        const std::uint64_t pos = s->start + offset;
        if (pos >= s->end || offset >= s->limit) {
            return 0;
        }
        if (!s->reader || s->reader->position() != pos) {
            s->reader.emplace(s->file, pos, s->end);
        }
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), s->limit - offset));
        const std::size_t n = s->reader->read(out.first(want));
        s->owner->on_download_bytes(n);
        if (!s->truncated && !s->done && s->reader->position() == s->file->size()) {
            s->done = true;
            s->owner->on_download_complete(s->job_id, s->reader->whole_file_sha1(), s->wrong_hash);
        }
        return n;
    };
    return r;
}

}  // namespace atlas_restored::fake_atlas
