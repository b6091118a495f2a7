// A dataset folder of class folders, as Keras's flow_from_directory reads
// it, given as a list of files (relative path + a way to read the bytes) so
// it works the same for a directory on disk, a browser FileList and Node.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cnn::data {

// The files of a dataset. Paths are relative to the dataset folder and use
// '/', e.g. "cats/001.jpg" or "cats/nested/002.png".
class FileSource {
 public:
  virtual ~FileSource() = default;
  virtual size_t size() const = 0;
  virtual const std::string& path(size_t i) const = 0;
  virtual std::vector<uint8_t> read(size_t i) const = 0;
  // First-level folders known to exist even if they hold no files (a disk
  // listing knows them; a browser FileList does not). May be empty.
  virtual std::vector<std::string> folders() const { return {}; }
};

// Files held in memory (the npm API and tests).
class MemoryFiles : public FileSource {
 public:
  void add(std::string path, std::vector<uint8_t> bytes);
  void add_folder(std::string name) { folders_.push_back(std::move(name)); }
  size_t size() const override { return files_.size(); }
  const std::string& path(size_t i) const override { return files_.at(i).first; }
  std::vector<uint8_t> read(size_t i) const override { return files_.at(i).second; }
  std::vector<std::string> folders() const override { return folders_; }

 private:
  std::vector<std::pair<std::string, std::vector<uint8_t>>> files_;
  std::vector<std::string> folders_;
};

enum class Subset { All, Training, Validation };
Subset parse_subset(const std::string& s);  // "", "training", "validation"

// Keras's file extensions for flow_from_directory (case-insensitive).
bool has_keras_image_extension(const std::string& path);

struct DirectoryListing {
  std::vector<std::string> classes;          // sorted folder names
  std::map<std::string, int> class_indices;  // name -> index
  std::vector<size_t> files;                 // indices into the FileSource, in Keras's order
  std::vector<int> labels;                   // class of each file
  std::vector<std::string> skipped;          // paths left out, with why
  std::vector<int64_t> per_class;            // files per class in this subset
  std::vector<std::string> empty_classes;    // class folders with no image file at all

  // "Found 1683 images belonging to 12 classes."
  std::string found_message() const;
  // One line naming how many files were skipped and a few of them, or "".
  std::string skipped_warning(size_t show = 5) const;
  // Names the class folders without images (Keras keeps them as classes,
  // which the model then never sees), or "".
  std::string empty_warning() const;
};

// Classes are the first-level folders, sorted; each class's files are found
// recursively and ordered as Keras walks them (folders sorted by path, files
// sorted by name). With validation_split > 0 and a subset, each class's first
// int(validation_split * n) files are its validation files, the rest its
// training files. Files outside class folders or with other extensions are
// skipped and listed. Throws ValueError when there is no class folder.
DirectoryListing list_directory(const FileSource& files, double validation_split = 0.0,
                                Subset subset = Subset::All);

}  // namespace cnn::data
