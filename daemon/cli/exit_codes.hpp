#pragma once
// Exit codes of the command line (SPEC §3): users script against them.

namespace atlas_restored::cli {

inline constexpr int exit_ok = 0;             // success
inline constexpr int exit_failure = 1;        // an API, run or configuration failure
inline constexpr int exit_invalid_input = 2;  // invalid flags or fields; nothing was sent

}  // namespace atlas_restored::cli
