#pragma once
// Free space in download_dir, checked before a submit (pre-flight, against the snapshot's
// fileSizeBytes) and before each download (against Content-Length): a run that cannot fit fails
// before it spends a restore or a download.

#include "util/error.hpp"

#include <cstdint>
#include <filesystem>

namespace atlas_restored::download {

// Bytes an unprivileged process may still write under `dir` (statvfs f_bavail · f_frsize). A
// directory that does not exist yet is measured at its nearest existing ancestor.
result<std::uint64_t> free_bytes(const std::filesystem::path& dir);

// errc::io_failed "download_dir X has N bytes free, the restore needs M" when it does not fit (the
// caller maps it to preflight_failed or disk_full); errc::io_failed too when it cannot be measured.
result<void> check_free_space(const std::filesystem::path& dir, std::uint64_t bytes_needed);

}  // namespace atlas_restored::download
