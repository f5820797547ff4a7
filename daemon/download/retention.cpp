#include "download/retention.hpp"

#include <algorithm>

namespace atlas_restored::download {

result<std::vector<std::filesystem::path>> apply_retention(
    const std::filesystem::path& policy_dir,
    int keep_last,
    std::vector<std::string> verified_run_ids_newest_first,
    std::set<std::string> unfinished_run_ids) {
    namespace fs = std::filesystem;
    std::vector<fs::path> deleted;
    std::error_code ec;
    if (!fs::is_directory(policy_dir, ec)) {
        return deleted;
    }

    const std::size_t keep = static_cast<std::size_t>(std::max(keep_last, 0));
    std::set<std::string> kept;
    std::set<std::string> expired;
    for (std::size_t i = 0; i < verified_run_ids_newest_first.size(); ++i) {
        (i < keep ? kept : expired).insert(verified_run_ids_newest_first[i]);
    }
    // Unverified leftovers go only when they are older than everything kept, and only once the
    // full complement of verified runs exists.
    std::optional<std::string> oldest_kept;
    if (keep > 0 && kept.size() == keep) {
        oldest_kept = *std::min_element(kept.begin(), kept.end());
    }

    std::vector<fs::path> doomed;
    for (fs::directory_iterator it(policy_dir, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::directory_entry& entry = *it;
        std::error_code type_ec;
        if (entry.is_symlink(type_ec) || !entry.is_directory(type_ec)) {
            continue;
        }
        const std::string name = entry.path().filename().string();
        if (unfinished_run_ids.count(name) != 0 || kept.count(name) != 0) {
            continue;
        }
        if (expired.count(name) != 0 || (oldest_kept && name < *oldest_kept)) {
            doomed.push_back(entry.path());
        }
    }
    if (ec) {
        return make_error(errc::io_failed, "cannot list " + policy_dir.string() + ": " + ec.message());
    }
    std::sort(doomed.begin(), doomed.end());
    for (const auto& dir : doomed) {
        fs::remove_all(dir, ec);
        if (ec) {
            return make_error(errc::io_failed, "cannot delete " + dir.string() + ": " + ec.message());
        }
        deleted.push_back(dir);
    }
    return deleted;
}

}  // namespace atlas_restored::download
