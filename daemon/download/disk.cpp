#include "download/disk.hpp"

#include <cerrno>
#include <cstring>
#include <sys/statvfs.h>

namespace atlas_restored::download {

result<std::uint64_t> free_bytes(const std::filesystem::path& dir) {
    std::filesystem::path probe = dir.empty() ? std::filesystem::path(".") : dir;
    std::error_code ec;
    while (!std::filesystem::exists(probe, ec) && probe.has_parent_path() && probe.parent_path() != probe) {
        probe = probe.parent_path();
    }
    struct statvfs st {};
    if (::statvfs(probe.c_str(), &st) != 0) {
        return make_error(errc::io_failed,
                          "cannot measure the free space of " + dir.string() + ": " + std::strerror(errno));
    }
    return static_cast<std::uint64_t>(st.f_bavail) * static_cast<std::uint64_t>(st.f_frsize);
}

result<void> check_free_space(const std::filesystem::path& dir, std::uint64_t bytes_needed) {
    auto available = free_bytes(dir);
    if (!available) {
        return available.error();
    }
    if (*available < bytes_needed) {
        return make_error(errc::io_failed,
                          "download_dir " + dir.string() + " has " + std::to_string(*available) +
                              " bytes free, the restore needs " + std::to_string(bytes_needed));
    }
    return {};
}

}  // namespace atlas_restored::download
