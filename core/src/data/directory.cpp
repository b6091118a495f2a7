#include "cnn/data/directory.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "cnn/error.h"

namespace cnn::data {

void MemoryFiles::add(std::string path, std::vector<uint8_t> bytes) {
  files_.emplace_back(std::move(path), std::move(bytes));
}

Subset parse_subset(const std::string& s) {
  if (s.empty() || s == "none") return Subset::All;
  if (s == "training") return Subset::Training;
  if (s == "validation") return Subset::Validation;
  throw ValueError("subset '" + s + "' is not supported, expected 'training' or 'validation'");
}

bool has_keras_image_extension(const std::string& path) {
  std::string lower;
  for (char c : path) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* ext : {".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff"}) {
    const size_t n = std::char_traits<char>::length(ext);
    if (lower.size() >= n && lower.compare(lower.size() - n, n, ext) == 0) return true;
  }
  return false;
}

std::string DirectoryListing::found_message() const {
  return "Found " + std::to_string(files.size()) + " images belonging to " + std::to_string(classes.size()) +
         " classes.";
}

std::string DirectoryListing::skipped_warning(size_t show) const {
  if (skipped.empty()) return "";
  std::string s = "Skipped " + std::to_string(skipped.size()) + " file" + (skipped.size() == 1 ? "" : "s") +
                  " (Keras reads png, jpg, jpeg, bmp, ppm, tif and tiff files inside class folders): ";
  for (size_t i = 0; i < skipped.size() && i < show; ++i) s += (i ? ", " : "") + skipped[i];
  if (skipped.size() > show) s += ", ...";
  return s;
}

std::string DirectoryListing::empty_warning() const {
  if (empty_classes.empty()) return "";
  std::string names;
  for (const std::string& c : empty_classes) names += (names.empty() ? "'" : ", '") + c + "'";
  return "class folder" + std::string(empty_classes.size() == 1 ? " " : "s ") + names +
         (empty_classes.size() == 1 ? " has" : " have") +
         " no images: kept as classes, as Keras keeps them, but no image will teach the model them; "
         "add images or remove the folder" +
         (empty_classes.size() == 1 ? "" : "s");
}

namespace {
std::string clean(const std::string& p) {
  std::string s = p;
  std::replace(s.begin(), s.end(), '\\', '/');
  while (s.rfind("./", 0) == 0) s = s.substr(2);
  while (!s.empty() && s[0] == '/') s = s.substr(1);
  return s;
}
}  // namespace

DirectoryListing list_directory(const FileSource& files, double validation_split, Subset subset) {
  if (!(validation_split >= 0.0 && validation_split < 1.0))
    throw ValueError("validation_split must be in [0, 1), got " + std::to_string(validation_split));
  // Keras finds no images then; a validation set equal to nothing (or, as
  // this once gave, to the training set) is never what was meant.
  if (subset == Subset::Validation && validation_split == 0.0)
    throw ValueError(
        "subset 'validation' needs a validation_split above 0 (the fraction of each class kept for "
        "validation), got 0");
  DirectoryListing out;
  std::set<std::string> class_set;
  for (const std::string& f : files.folders()) {
    std::string c = clean(f);
    if (!c.empty() && c.find('/') == std::string::npos) class_set.insert(c);
  }
  // class -> (folder path inside the class, file name, source index)
  struct Entry {
    std::string dir, name;
    size_t index;
  };
  std::map<std::string, std::vector<Entry>> by_class;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string p = clean(files.path(i));
    const size_t slash = p.find('/');
    if (slash == std::string::npos) {
      out.skipped.push_back(p + " (not inside a class folder)");
      continue;
    }
    const std::string cls = p.substr(0, slash);
    class_set.insert(cls);
    if (!has_keras_image_extension(p)) {
      out.skipped.push_back(p);
      continue;
    }
    const size_t last = p.rfind('/');
    by_class[cls].push_back({p.substr(0, last), p.substr(last + 1), i});
  }
  if (class_set.empty())
    throw ValueError(
        "the dataset has no class folders: expected one folder per class (e.g. cats/, dogs/) "
        "holding the images, as Keras's flow_from_directory reads them");
  out.classes.assign(class_set.begin(), class_set.end());  // std::set: sorted like Python's sorted()
  for (size_t k = 0; k < out.classes.size(); ++k) out.class_indices[out.classes[k]] = static_cast<int>(k);
  for (size_t k = 0; k < out.classes.size(); ++k) {
    std::vector<Entry>& entries = by_class[out.classes[k]];
    // os.walk sorted by folder path, then the files of each folder sorted.
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return a.dir != b.dir ? a.dir < b.dir : a.name < b.name;
    });
    const int64_t n = static_cast<int64_t>(entries.size());
    if (n == 0) out.empty_classes.push_back(out.classes[k]);
    int64_t begin = 0, end = n;
    if (validation_split > 0.0 && subset != Subset::All) {
      const int64_t split = static_cast<int64_t>(validation_split * static_cast<double>(n));
      if (subset == Subset::Validation)
        end = split;
      else
        begin = split;
    }
    for (int64_t i = begin; i < end; ++i) {
      out.files.push_back(entries[static_cast<size_t>(i)].index);
      out.labels.push_back(static_cast<int>(k));
    }
    out.per_class.push_back(end - begin);
  }
  return out;
}

}  // namespace cnn::data
