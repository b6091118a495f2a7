// ImageDataGenerator(...).flow_from_directory(...): batches of images from a
// folder of class folders. Decoded, resized images are kept as uint8 and
// turned into floats one batch at a time; a dataset larger than the memory
// budget is decoded from its bytes for every batch instead.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cnn/data/augment.h"
#include "cnn/data/directory.h"
#include "cnn/data/image.h"
#include "cnn/train/fit.h"

namespace cnn::data {

enum class ClassMode { Sparse, Categorical, Binary, Input, None };
ClassMode parse_class_mode(const std::string& s);  // "sparse", "categorical", "binary", "input", "none"/""

struct FlowOptions {
  int64_t target_height = 256, target_width = 256;  // Keras's target_size default
  ColorMode color_mode = ColorMode::RGB;
  Interpolation interpolation = Interpolation::Nearest;
  ClassMode class_mode = ClassMode::Categorical;
  int64_t batch_size = 32;
  bool shuffle = true;
  uint64_t seed = 0;
  // preprocessing_function, applied before rescale as Keras does: "" or
  // "caffe" (keras.applications' preprocess_input, see preprocess.h).
  std::string preprocessing;
  float rescale = 0;  // 0: none (Keras's None)
  double validation_split = 0;
  Subset subset = Subset::All;
  AugmentOptions augment;                  // used only when subset is not Validation
  size_t memory_budget = size_t(1) << 30;  // bytes of uint8 images kept decoded
  // Decode (and check) every image before the first batch; when false,
  // images are decoded only as batches need them (previews of big folders).
  bool decode_upfront = true;
};

class ImageFlow : public train::Dataset {
 public:
  // Lists the files (Keras's order and split). Nothing is decoded yet.
  ImageFlow(std::shared_ptr<const FileSource> files, const FlowOptions& opt);

  const DirectoryListing& listing() const { return listing_; }
  const std::vector<std::string>& classes() const { return listing_.classes; }
  std::string found_message() const { return listing_.found_message(); }
  bool augmenting() const { return augment_; }
  bool cached() const { return cached_; }
  bool prepared() const { return prepared_; }  // decoded once: the counts are final

  // Decodes every image once: keeps them when they fit the memory budget,
  // and drops unreadable files from the flow, listed in unreadable(). Throws
  // when a class is left with no readable image. Done once; fit, evaluate
  // and the first batch call it when it was not called before (ready()), so
  // that the counts they read hold. `progress(done, total)` may be null.
  void prepare(const std::function<void(size_t, size_t)>& progress = nullptr);
  const std::vector<std::string>& unreadable() const { return unreadable_; }

  int64_t num_samples() const override { return static_cast<int64_t>(listing_.files.size()); }
  int64_t num_batches() const override;
  int64_t batch_size() const override { return std::min(opt_.batch_size, num_samples()); }
  void ready() override;
  void on_epoch_begin(int epoch) override;
  std::pair<Tensor, Tensor> batch(int64_t index) override;
  // Keras's iterator: endless, reshuffling at the end of each pass.
  std::pair<Tensor, Tensor> next();

  // The label of the i-th file of the flow, and its path.
  int label(size_t i) const { return listing_.labels.at(i); }
  const std::string& path(size_t i) const { return files_->path(listing_.files.at(i)); }

 private:
  Image load(size_t i) const;  // decoded and resized
  void shuffle_order();        // order_ for pass epoch_: shuffled from the seed, or in listing order
  std::shared_ptr<const FileSource> files_;
  FlowOptions opt_;
  DirectoryListing listing_;
  bool augment_ = false, prepared_ = false, cached_ = false;
  std::vector<uint8_t> cache_;  // (N, H, W, C) uint8 when cached
  size_t image_bytes_ = 0;
  std::vector<std::string> unreadable_;
  std::vector<int64_t> order_;
  int epoch_ = 0;
  int64_t next_batch_ = 0;
};

}  // namespace cnn::data
