#pragma once
// Where a downloaded file's name comes from, and why it can be trusted: a name from the server
// (the job's hashes[].fileName, or the last segment of the download URL) becomes a path under
// download_dir only after it is reduced to a plain base name. Pure functions.

#include "atlas/types.hpp"
#include "util/error.hpp"

#include <string>
#include <string_view>

namespace atlas_restored::download {

inline constexpr std::size_t max_file_name_bytes = 255;  // NAME_MAX on Linux file systems

// The candidate itself when it is a plain file name; errc::invalid_input otherwise: empty, "." or
// "..", a '/' or '\', a control character or NUL, or longer than 255 bytes. The message shows the
// candidate with control characters escaped.
result<std::string> safe_file_name(std::string_view candidate);

// The last path segment of an https URL (query and fragment ignored), percent-decoded, then checked
// by safe_file_name. The message never contains the URL (it may carry the download key).
result<std::string> file_name_from_url(std::string_view url);

// The job's file name: hashes[].fileName when the job has one entry (an HTTP delivery has one
// file), otherwise the name in urlV2, otherwise in url.
result<std::string> file_name_for_job(const atlas::restore_job& job);

// The hashes entry for `file_name`: the one of that name, or the only one when there is exactly
// one (an HTTP delivery hashes a single .tar.gz). nullptr when Atlas has not published it yet.
const atlas::file_hash* find_hash(const atlas::restore_job& job, std::string_view file_name);

// For messages: the candidate with control characters and non-ASCII bytes as \xNN, cut at 80.
std::string printable_name(std::string_view candidate);

}  // namespace atlas_restored::download
