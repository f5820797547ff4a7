#pragma once
// A directory under $TMPDIR that lives as long as the object.

#include <filesystem>
#include <string>

namespace atlas_restored::testing {

class temp_dir {
  public:
    explicit temp_dir(const std::string& prefix = "atlas-restored-test");
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

// Writes text to a file, creating parent directories.
void write_file(const std::filesystem::path& file, const std::string& text);
std::string read_file(const std::filesystem::path& file);

}  // namespace atlas_restored::testing
