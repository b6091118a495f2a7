#include "cnn/data/flow.h"

#include <numeric>

#include "cnn/data/preprocess.h"
#include "cnn/error.h"

namespace cnn::data {

ClassMode parse_class_mode(const std::string& s) {
  if (s == "sparse") return ClassMode::Sparse;
  if (s == "categorical") return ClassMode::Categorical;
  if (s == "binary") return ClassMode::Binary;
  if (s == "input") return ClassMode::Input;
  if (s.empty() || s == "none" || s == "null") return ClassMode::None;
  throw ValueError("class_mode '" + s +
                   "' is not supported, expected sparse, categorical, binary, input or none");
}

ImageFlow::ImageFlow(std::shared_ptr<const FileSource> files, const FlowOptions& opt)
    : files_(std::move(files)), opt_(opt) {
  if (!files_) throw ValueError("flow_from_directory: no files given");
  if (opt.target_height < 1 || opt.target_width < 1)
    throw ValueError("flow_from_directory: target_size " + std::to_string(opt.target_height) + "x" +
                     std::to_string(opt.target_width) + " must be at least 1x1");
  if (opt.batch_size < 1) throw ValueError("flow_from_directory: batch_size must be >= 1");
  check_preprocessing_mode(opt.preprocessing);
  if (!opt.preprocessing.empty() && opt.color_mode != ColorMode::RGB)
    throw ValueError("flow_from_directory: preprocessing '" + opt.preprocessing +
                     "' needs color_mode 'rgb' (it reorders RGB to BGR)");
  listing_ = list_directory(*files_, opt.validation_split, opt.subset);
  if (opt.class_mode == ClassMode::Binary && listing_.classes.size() != 2)
    throw ValueError("flow_from_directory: class_mode 'binary' needs exactly 2 classes, found " +
                     std::to_string(listing_.classes.size()));
  // Validation and test data are never augmented, whatever the options say.
  augment_ = opt.subset != Subset::Validation && opt.augment.any();
  shuffle_order();
}

int64_t ImageFlow::num_batches() const { return (num_samples() + opt_.batch_size - 1) / opt_.batch_size; }

Image ImageFlow::load(size_t i) const {
  const size_t f = listing_.files[i];
  std::vector<uint8_t> bytes = files_->read(f);
  Image img = decode_image(bytes.data(), bytes.size(), opt_.color_mode, files_->path(f));
  return resize_image(img, opt_.target_height, opt_.target_width, opt_.interpolation);
}

void ImageFlow::prepare(const std::function<void(size_t, size_t)>& progress) {
  const size_t n = listing_.files.size();
  if (prepared_) {  // once: the unreadable files are gone already
    if (progress) progress(n, n);
    return;
  }
  const uint64_t image_bytes64 = static_cast<uint64_t>(opt_.target_height) *
                                 static_cast<uint64_t>(opt_.target_width) *
                                 static_cast<uint64_t>(color_mode_channels(opt_.color_mode));
  // Divided, not multiplied: size_t is 32 bits in wasm, and n * image_bytes
  // once wrapped past 4 GiB to a small cache that the copies overran.
  cached_ = image_bytes64 > 0 && n <= opt_.memory_budget / image_bytes64;
  const size_t image_bytes = cached_ ? static_cast<size_t>(image_bytes64) : 0;
  // One block for every image: no per-image allocations to fragment the heap.
  std::vector<uint8_t> cache(cached_ ? n * image_bytes : 0);
  std::vector<size_t> keep_files;
  std::vector<int> keep_labels;
  std::vector<int64_t> readable_per_class(listing_.classes.size(), 0);
  std::vector<std::string> first_error(listing_.classes.size());
  for (size_t i = 0; i < n; ++i) {
    try {
      Image img = load(i);
      if (cached_)
        std::copy(img.pixels.begin(), img.pixels.end(),
                  cache.begin() + static_cast<std::ptrdiff_t>(keep_files.size() * image_bytes));
      keep_files.push_back(listing_.files[i]);
      keep_labels.push_back(listing_.labels[i]);
      ++readable_per_class[static_cast<size_t>(listing_.labels[i])];
    } catch (const ValueError& e) {
      unreadable_.push_back(e.what());
      std::string& first = first_error[static_cast<size_t>(listing_.labels[i])];
      if (first.empty()) first = e.what();
    }
    if (progress) progress(i + 1, n);
  }
  for (size_t k = 0; k < listing_.classes.size(); ++k)
    if (listing_.per_class[k] > 0 && readable_per_class[k] == 0)
      throw ValueError("class '" + listing_.classes[k] + "' has no readable image: " + first_error[k]);
  listing_.files = std::move(keep_files);
  listing_.labels = std::move(keep_labels);
  listing_.per_class = readable_per_class;
  cache_ = std::move(cache);
  image_bytes_ = image_bytes;
  prepared_ = true;
  shuffle_order();  // the current pass's order, over the readable files
}

void ImageFlow::ready() {
  if (!prepared_ && opt_.decode_upfront) prepare();
}

void ImageFlow::shuffle_order() {
  order_.resize(listing_.files.size());
  std::iota(order_.begin(), order_.end(), 0);
  if (opt_.shuffle) {
    Rng rng(opt_.seed * 1000003ull + static_cast<uint64_t>(epoch_) * 7919ull + 1);
    rng.shuffle(order_);
  }
}

void ImageFlow::on_epoch_begin(int epoch) {
  epoch_ = epoch;
  ready();
  shuffle_order();
}

std::pair<Tensor, Tensor> ImageFlow::batch(int64_t index) {
  ready();
  const int64_t n = num_samples();
  if (n == 0) throw ValueError("flow_from_directory: the dataset holds no images");
  if (index < 0 || index >= num_batches())
    throw ValueError("flow_from_directory: batch " + std::to_string(index) + " out of range, the flow has " +
                     std::to_string(num_batches()));
  const int64_t b0 = index * opt_.batch_size, b1 = std::min(b0 + opt_.batch_size, n);
  const int64_t H = opt_.target_height, W = opt_.target_width, C = color_mode_channels(opt_.color_mode);
  const int64_t plane = H * W * C, K = static_cast<int64_t>(listing_.classes.size());
  Tensor x({b1 - b0, H, W, C});  // (N, H, W, C), converted per batch
  Tensor y;
  switch (opt_.class_mode) {
    case ClassMode::Sparse:
    case ClassMode::Binary:
      y = Tensor({b1 - b0});
      break;
    case ClassMode::Categorical:
      y = Tensor({b1 - b0, K});
      break;
    default:
      break;
  }
  std::vector<float> px(static_cast<size_t>(plane));
  for (int64_t j = b0; j < b1; ++j) {
    const size_t i = static_cast<size_t>(order_[static_cast<size_t>(j)]);
    std::vector<uint8_t> decoded;
    const uint8_t* pixels = nullptr;
    if (cached_) {
      pixels = cache_.data() + i * image_bytes_;
    } else {
      decoded = load(i).pixels;
      pixels = decoded.data();
    }
    for (int64_t k = 0; k < plane; ++k) px[static_cast<size_t>(k)] = pixels[k];
    if (augment_) {
      // Each image's draws depend on the seed, the epoch and its position only.
      Rng rng(opt_.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch_) * 1000003ull +
              static_cast<uint64_t>(i));
      augment_image(px, H, W, C, opt_.augment, rng);
    }
    preprocess_input(px.data(), H * W, C, opt_.preprocessing);
    float* dst = x.data() + (j - b0) * plane;
    const float scale = opt_.rescale != 0 ? opt_.rescale : 1.0f;
    for (int64_t k = 0; k < plane; ++k) dst[k] = px[static_cast<size_t>(k)] * scale;
    const int label = listing_.labels[i];
    if (opt_.class_mode == ClassMode::Categorical)
      y[(j - b0) * K + label] = 1.0f;
    else if (y.defined())
      y[j - b0] = static_cast<float>(label);
  }
  if (opt_.class_mode == ClassMode::Input) y = x.clone();
  if (!y.defined()) y = Tensor({b1 - b0, 0});  // class_mode None: no targets
  return {x, y};
}

std::pair<Tensor, Tensor> ImageFlow::next() {
  if (next_batch_ == 0) on_epoch_begin(epoch_);
  auto out = batch(next_batch_);
  if (++next_batch_ >= num_batches()) {
    next_batch_ = 0;
    ++epoch_;
  }
  return out;
}

}  // namespace cnn::data
