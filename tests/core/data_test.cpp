// The image pipeline: decoding and resizing against PIL (Keras's load_img),
// Keras's folder listing and validation split, the flow, augmentation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "cnn/data/augment.h"
#include "cnn/data/directory.h"
#include "cnn/data/flow.h"
#include "cnn/data/image.h"
#include "cnn/error.h"
#include "test_util.h"

using namespace cnn;
using namespace cnn::data;

namespace {

std::vector<uint8_t> read_bytes(const std::string& name) {
  std::string s = test::read_text(test::fixture_path("images/" + name));
  return std::vector<uint8_t>(s.begin(), s.end());
}

std::vector<uint8_t> b64(const std::string& s) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<uint8_t> out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    const size_t v = chars.find(c);
    if (v == std::string::npos) continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    if ((bits += 6) >= 8) out.push_back(static_cast<uint8_t>((acc >> (bits -= 8)) & 0xFF));
  }
  return out;
}

int max_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  EXPECT_EQ(a.size(), b.size());
  int worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

const nlohmann::json& expected() {
  static const nlohmann::json j =
      nlohmann::json::parse(test::read_text(test::fixture_path("images/expected.json")));
  return j;
}

}  // namespace

TEST(Decode, MatchesPilInEveryColorMode) {
  for (auto& [name, entry] : expected().items()) {
    const bool jpeg = name.find(".jpg") != std::string::npos;
    const std::vector<uint8_t> bytes = read_bytes(name);
    for (const char* mode : {"rgb", "grayscale", "rgba"}) {
      SCOPED_TRACE(name + " as " + mode);
      Image img = decode_image(bytes.data(), bytes.size(), parse_color_mode(mode), name);
      EXPECT_EQ(img.width, entry["width"].get<int64_t>());
      EXPECT_EQ(img.height, entry["height"].get<int64_t>());
      const int diff = max_diff(img.pixels, b64(entry["modes"][mode]["pixels"]));
      // Lossless formats decode exactly; JPEG decoders may round differently.
      EXPECT_LE(diff, jpeg ? 2 : 0);
    }
  }
}

TEST(Resize, NearestAndBilinearMatchPil) {
  for (auto& [name, entry] : expected().items()) {
    if (name.find(".jpg") != std::string::npos) continue;  // sources differ slightly
    const std::vector<uint8_t> bytes = read_bytes(name);
    for (const char* mode : {"rgb", "grayscale"}) {
      Image img = decode_image(bytes.data(), bytes.size(), parse_color_mode(mode), name);
      for (auto& [key, pixels] : entry["modes"][mode]["resized"].items()) {
        SCOPED_TRACE(name + " " + mode + " " + key);
        const int64_t h = std::stoll(key.substr(0, key.find('x')));
        const int64_t w = std::stoll(key.substr(key.find('x') + 1, key.find('/') - key.find('x') - 1));
        const Interpolation interp = parse_interpolation(key.substr(key.find('/') + 1));
        Image r = resize_image(img, h, w, interp);
        EXPECT_EQ(max_diff(r.pixels, b64(pixels.get<std::string>())), 0);
      }
    }
  }
}

TEST(ImageTensor, IsLoadImgTimesScale) {
  for (auto& [name, entry] : expected().items()) {
    if (name.find(".jpg") != std::string::npos) continue;
    const std::vector<uint8_t> bytes = read_bytes(name);
    for (auto& [key, pixels] : entry["modes"]["rgb"]["resized"].items()) {
      if (key.find("/nearest") == std::string::npos) continue;
      SCOPED_TRACE(name + " " + key);
      const int64_t h = std::stoll(key.substr(0, key.find('x')));
      const int64_t w = std::stoll(key.substr(key.find('x') + 1, key.find('/') - key.find('x') - 1));
      const Tensor x =
          image_tensor(bytes.data(), bytes.size(), name, h, w, ColorMode::RGB, Interpolation::Nearest, 0.5f);
      ASSERT_EQ(x.shape(), (Shape{1, h, w, 3}));
      const std::vector<uint8_t> want = b64(pixels.get<std::string>());
      for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(x[static_cast<int64_t>(i)], want[i] * 0.5f) << i;
      // With 'caffe' preprocessing, Keras's order: BGR minus the ImageNet
      // means on the 0..255 pixels, then the rescale.
      const Tensor c = image_tensor(bytes.data(), bytes.size(), name, h, w, ColorMode::RGB,
                                    Interpolation::Nearest, 0.5f, "caffe");
      const float means[3] = {103.939f, 116.779f, 123.68f};  // B, G, R
      for (size_t p = 0; p < want.size() / 3; ++p)
        for (size_t k = 0; k < 3; ++k)
          ASSERT_EQ(c[static_cast<int64_t>(p * 3 + k)], (want[p * 3 + 2 - k] - means[k]) * 0.5f) << p;
    }
  }
  const std::vector<uint8_t> junk = read_bytes("not_an_image.png");
  EXPECT_THROW(
      image_tensor(junk.data(), junk.size(), "x.png", 8, 8, ColorMode::RGB, Interpolation::Nearest, 1),
      ValueError);
}

TEST(Decode, BadInputNamesTheFile) {
  for (const char* name : {"truncated.jpg", "not_an_image.png"}) {
    const std::vector<uint8_t> bytes = read_bytes(name);
    try {
      decode_image(bytes.data(), bytes.size(), ColorMode::RGB, std::string("cats/") + name);
      ADD_FAILURE() << name << " decoded";
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("cats/") + name), std::string::npos) << e.what();
    }
  }
  const uint8_t tiff[] = {'I', 'I', 42, 0, 8, 0, 0, 0};
  try {
    decode_image(tiff, sizeof tiff, ColorMode::RGB, "x.tif");
    ADD_FAILURE();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("TIFF"), std::string::npos);
  }
  EXPECT_THROW(decode_image(tiff, 0, ColorMode::RGB, "empty.png"), ValueError);
  Image one{1, 1, 1, {7}};
  EXPECT_THROW(resize_image(one, 0, 5, Interpolation::Nearest), ValueError);
}

namespace {

// An uneven tree: nested folders, an empty class, non-image files.
std::shared_ptr<MemoryFiles> tree() {
  auto files = std::make_shared<MemoryFiles>();
  const std::vector<uint8_t> png = read_bytes("rgb.png");
  for (const char* p : {"dogs/b.png", "dogs/a.jpg", "dogs/z/nested.png", "dogs/sub/2.png", "dogs/sub/1.PNG",
                        "dogs/c.jpeg", "dogs/d.bmp", "cats/x.png", "cats/sub dir/y.png", "cats/w.ppm",
                        "birds/only.tif", "dogs/notes.txt", "cats/anim.gif", "README.md"})
    files->add(p, png);
  files->add_folder("empty");
  return files;
}

}  // namespace

TEST(Directory, KerasOrderAndValidationSplit) {
  auto files = tree();
  // Expected by Keras's rule, written out by hand: classes sorted; per class,
  // os.walk folders sorted by path with their files sorted by name.
  const std::vector<std::string> classes = {"birds", "cats", "dogs", "empty"};
  const std::vector<std::vector<std::string>> per_class = {
      {"birds/only.tif"},
      {"cats/w.ppm", "cats/x.png", "cats/sub dir/y.png"},
      {"dogs/a.jpg", "dogs/b.png", "dogs/c.jpeg", "dogs/d.bmp", "dogs/sub/1.PNG", "dogs/sub/2.png",
       "dogs/z/nested.png"},
      {}};
  auto paths = [&](const DirectoryListing& l) {
    std::vector<std::string> out;
    for (size_t f : l.files) out.push_back(files->path(f));
    return out;
  };
  DirectoryListing all = list_directory(*files);
  EXPECT_EQ(all.classes, classes);
  EXPECT_EQ(all.class_indices.at("dogs"), 2);
  EXPECT_EQ(all.found_message(), "Found 11 images belonging to 4 classes.");
  EXPECT_EQ(all.skipped.size(), 3u);
  EXPECT_NE(all.skipped_warning().find("dogs/notes.txt"), std::string::npos);

  for (double split : {0.25, 0.5, 0.3}) {
    DirectoryListing val = list_directory(*files, split, Subset::Validation);
    DirectoryListing train = list_directory(*files, split, Subset::Training);
    std::vector<std::string> want_val, want_train;
    for (size_t k = 0; k < per_class.size(); ++k) {
      const size_t n = per_class[k].size(), cut = static_cast<size_t>(split * static_cast<double>(n));
      want_val.insert(want_val.end(), per_class[k].begin(), per_class[k].begin() + static_cast<long>(cut));
      want_train.insert(want_train.end(), per_class[k].begin() + static_cast<long>(cut), per_class[k].end());
    }
    EXPECT_EQ(paths(val), want_val) << split;
    EXPECT_EQ(paths(train), want_train) << split;
    for (const std::string& v : paths(val))
      EXPECT_EQ(std::count(want_train.begin(), want_train.end(), v), 0) << v << " in both subsets";
  }
  // Spot check against the rule by hand: dogs has 7 files, int(0.25 * 7) = 1.
  DirectoryListing val = list_directory(*files, 0.25, Subset::Validation);
  EXPECT_EQ(val.per_class, (std::vector<int64_t>{0, 0, 1, 0}));
}

TEST(Directory, NoClassFoldersIsAnError) {
  MemoryFiles flat;
  flat.add("a.png", {});
  EXPECT_THROW(list_directory(flat), ValueError);
  MemoryFiles none;
  try {
    list_directory(none);
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("class folders"), std::string::npos);
  }
}

TEST(Flow, BatchesTargetsAndRescale) {
  auto files = tree();
  FlowOptions o;
  o.target_height = 5;
  o.target_width = 6;
  o.batch_size = 4;
  o.rescale = 1.0f / 255;
  o.shuffle = false;
  ImageFlow flow(files, o);  // class_mode defaults to 'categorical', as in Keras
  EXPECT_EQ(flow.num_samples(), 11);
  EXPECT_EQ(flow.num_batches(), 3);  // ceil(11 / 4)
  auto [x, y] = flow.batch(0);
  EXPECT_EQ(x.shape(), (Shape{4, 5, 6, 3}));
  EXPECT_EQ(y.shape(), (Shape{4, 4}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0}));
  const std::vector<uint8_t> png = read_bytes("rgb.png");
  Image want =
      resize_image(decode_image(png.data(), png.size(), ColorMode::RGB, "x"), 5, 6, Interpolation::Nearest);
  for (size_t i = 0; i < want.pixels.size(); ++i)
    ASSERT_FLOAT_EQ(x[static_cast<int64_t>(i)], want.pixels[i] / 255.0f);
  EXPECT_EQ(flow.batch(2).first.dim(0), 3);  // the last, partial batch

  o.class_mode = ClassMode::Sparse;
  EXPECT_EQ(ImageFlow(files, o).batch(0).second.to_vector(), (std::vector<float>{0, 1, 1, 1}));
  o.class_mode = ClassMode::Input;
  auto in = ImageFlow(files, o).batch(1);
  EXPECT_EQ(in.first.to_vector(), in.second.to_vector());
  o.class_mode = ClassMode::None;
  EXPECT_EQ(ImageFlow(files, o).batch(0).second.shape(), (Shape{4, 0}));
  o.class_mode = ClassMode::Binary;
  EXPECT_THROW(ImageFlow(files, o), ValueError);  // 4 classes
  o.target_height = 0;
  EXPECT_THROW(ImageFlow(files, o), ValueError);
}

TEST(Flow, ShufflesReproduciblyAndStreamsBeyondTheBudget) {
  auto files = tree();
  FlowOptions o;
  o.target_height = o.target_width = 4;
  o.batch_size = 11;
  o.class_mode = ClassMode::Sparse;
  o.seed = 5;
  ImageFlow a(files, o), b(files, o);
  a.on_epoch_begin(0);
  b.on_epoch_begin(0);
  EXPECT_EQ(a.batch(0).second.to_vector(), b.batch(0).second.to_vector());
  o.memory_budget = 0;  // nothing kept: decoded from bytes for every batch
  ImageFlow streamed(files, o);
  streamed.on_epoch_begin(0);
  auto s = streamed.batch(0);
  EXPECT_FALSE(streamed.cached());
  EXPECT_TRUE(a.cached());
  EXPECT_EQ(s.first.to_vector(), a.batch(0).first.to_vector());
  // Endless next(): more batches than one epoch holds.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(a.next().first.dim(0), 11);
}

TEST(Flow, DecodesLazilyWhenAsked) {
  auto files = std::make_shared<MemoryFiles>();
  const std::vector<uint8_t> png = read_bytes("rgb.png"), bad = read_bytes("truncated.jpg");
  files->add("cats/1.png", png);
  files->add("dogs/1.png", png);
  files->add("dogs/2.jpg", bad);
  FlowOptions o;
  o.target_height = o.target_width = 4;
  o.batch_size = 2;
  o.shuffle = false;
  o.decode_upfront = false;  // a preview: only the images a batch needs are decoded
  ImageFlow flow(files, o);
  EXPECT_EQ(flow.batch(0).first.dim(0), 2);  // the first two files are fine
  EXPECT_FALSE(flow.cached());
  try {
    flow.batch(1);
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("dogs/2.jpg"), std::string::npos) << e.what();
  }
}

TEST(Flow, EmptyDatasetIsAnErrorWhenUsed) {
  auto files = std::make_shared<MemoryFiles>();
  files->add_folder("cats");
  files->add_folder("dogs");
  FlowOptions o;
  o.target_height = o.target_width = 4;
  ImageFlow flow(files, o);
  EXPECT_EQ(flow.found_message(), "Found 0 images belonging to 2 classes.");
  EXPECT_THROW(flow.batch(0), ValueError);
}

TEST(Flow, UnreadableFilesAreListedAndEmptyClassesRefused) {
  auto files = std::make_shared<MemoryFiles>();
  const std::vector<uint8_t> png = read_bytes("rgb.png"), bad = read_bytes("truncated.jpg");
  files->add("cats/1.png", png);
  files->add("cats/2.jpg", bad);
  files->add("dogs/1.png", png);
  FlowOptions o;
  o.target_height = o.target_width = 4;
  ImageFlow flow(files, o);
  EXPECT_EQ(flow.found_message(), "Found 3 images belonging to 2 classes.");
  flow.prepare();
  ASSERT_EQ(flow.unreadable().size(), 1u);
  EXPECT_NE(flow.unreadable()[0].find("cats/2.jpg"), std::string::npos);
  EXPECT_EQ(flow.num_samples(), 2);
  files->add("birds/1.jpg", bad);
  ImageFlow broken(files, o);
  try {
    broken.prepare();
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("class 'birds'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("birds/1.jpg"), std::string::npos) << e.what();  // its own file
  }
}

// A flow used without prepare(): its first pass is shuffled as every other
// (prepare() once reset it to the listing order), and fit reads counts that
// already leave out the unreadable files (a stale count once ended the first
// epoch with "batch 40 out of range").
TEST(Flow, WithoutPrepareTheFirstPassIsShuffledAndCountsHold) {
  auto files = std::make_shared<MemoryFiles>();
  const std::vector<uint8_t> png = read_bytes("rgb.png"), bad = read_bytes("truncated.jpg");
  for (int i = 0; i < 20; ++i)
    files->add((i < 10 ? "cats/" : "dogs/") + std::to_string(10 + i) + ".png", png);
  files->add("cats/zz_bad.jpg", bad);
  FlowOptions o;
  o.target_height = o.target_width = 4;
  o.batch_size = 4;
  o.class_mode = ClassMode::Sparse;
  o.seed = 7;
  auto labels = [](ImageFlow& f) {
    std::vector<float> all;
    f.on_epoch_begin(0);
    for (int64_t b = 0; b < f.num_batches(); ++b)
      for (float l : f.batch(b).second.to_vector()) all.push_back(l);
    return all;
  };
  ImageFlow lazy(files, o), prepared(files, o);
  prepared.prepare();
  const std::vector<float> first = labels(lazy);
  EXPECT_EQ(first, labels(prepared));
  ASSERT_EQ(first.size(), 20u);
  EXPECT_FALSE(std::is_sorted(first.begin(), first.end()));
  ImageFlow counted(files, o);
  EXPECT_EQ(counted.num_samples(), 21);  // the listing, as Keras's Found message counts it
  counted.ready();
  EXPECT_EQ(counted.num_samples(), 20);
  EXPECT_EQ(counted.num_batches(), 5);
  EXPECT_EQ(counted.unreadable().size(), 1u);
  counted.prepare();  // once only: the unreadable file is not listed twice
  EXPECT_EQ(counted.unreadable().size(), 1u);
}

// Keras finds no images for subset='validation' without a validation_split;
// that is refused, not (as it once did) answered with every image.
TEST(Flow, ValidationSubsetNeedsASplit) {
  FlowOptions o;
  o.target_height = o.target_width = 4;
  o.subset = Subset::Validation;
  try {
    ImageFlow flow(tree(), o);
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("subset 'validation' needs a validation_split above 0"),
              std::string::npos)
        << e.what();
  }
  o.validation_split = 0.5;
  EXPECT_NO_THROW(ImageFlow(tree(), o));
}

TEST(Directory, EmptyClassFoldersAreNamed) {
  const DirectoryListing l = list_directory(*tree());
  EXPECT_EQ(l.empty_classes, (std::vector<std::string>{"empty"}));
  EXPECT_EQ(
      l.empty_warning(),
      "class folder 'empty' has no images: kept as classes, as Keras keeps them, but no image will teach "
      "the model them; add images or remove the folder");
  MemoryFiles full;
  full.add("cats/1.png", {1});
  EXPECT_EQ(list_directory(full).empty_warning(), "");
}

// A rescale of 0 is none, as in a flow and in Keras (a saved 'caffe' model
// stores 0): loading an image for predict once multiplied it by 0.
TEST(ImageTensor, RescaleZeroIsNone) {
  const std::vector<uint8_t> bytes = read_bytes("rgb.png");
  const Tensor none =
      image_tensor(bytes.data(), bytes.size(), "rgb.png", 4, 4, ColorMode::RGB, Interpolation::Nearest, 0.0f);
  const Tensor one =
      image_tensor(bytes.data(), bytes.size(), "rgb.png", 4, 4, ColorMode::RGB, Interpolation::Nearest, 1.0f);
  const std::vector<float> values = none.to_vector();
  EXPECT_EQ(values, one.to_vector());
  EXPECT_GT(*std::max_element(values.begin(), values.end()), 0.0f);
}

TEST(Augment, ValidationNeverAugments) {
  auto files = tree();
  FlowOptions o;
  o.target_height = o.target_width = 8;
  o.batch_size = 11;
  o.shuffle = false;
  o.validation_split = 0.5;
  o.subset = Subset::Validation;
  ImageFlow plain(files, o);
  o.augment = AugmentOptions::parse("horizontal_flip,rotation_range=40,zoom_range=0.5,noise=20,blur=2");
  ImageFlow val(files, o);
  EXPECT_FALSE(val.augmenting());
  EXPECT_EQ(val.batch(0).first.to_vector(), plain.batch(0).first.to_vector());
  o.subset = Subset::Training;
  ImageFlow train(files, o);
  EXPECT_TRUE(train.augmenting());
}

TEST(Augment, EachKeepsShapeIsSeededAndChangesPixels) {
  const int64_t H = 12, W = 12, C = 3;
  std::vector<float> base(static_cast<size_t>(H * W * C));
  Rng init(3);
  for (float& v : base) v = init.uniform(0, 255);
  for (const char* spec : {"horizontal_flip", "vertical_flip", "rotate90", "rotation_range=30",
                           "width_shift_range=0.2", "height_shift_range=3", "zoom_range=0.7:1.3",
                           "shear_range=20", "brightness_range=0.5:1.5", "contrast_range=0.5:1.5", "blur=2",
                           "sharpen=2", "noise=10", "rotation_range=30,fill_mode=constant,cval=0",
                           "rotation_range=30,fill_mode=reflect", "rotation_range=30,fill_mode=wrap"}) {
    SCOPED_TRACE(spec);
    const AugmentOptions o = AugmentOptions::parse(spec);
    bool changed = false;
    for (uint64_t seed = 0; seed < 8; ++seed) {
      std::vector<float> a = base, b = base;
      Rng r1(seed), r2(seed);
      augment_image(a, H, W, C, o, r1);
      augment_image(b, H, W, C, o, r2);
      EXPECT_EQ(a, b);  // the same seed, the same result
      EXPECT_EQ(a.size(), base.size());
      for (float v : a) ASSERT_TRUE(v >= 0 && v <= 255) << v;
      changed |= a != base;
    }
    EXPECT_TRUE(changed);
  }
  EXPECT_THROW(AugmentOptions::parse("rotation_range=abc"), ValueError);
  EXPECT_THROW(AugmentOptions::parse("noise=5@1.5"), ValueError);
  // A per-augmentation probability of 0 turns that one off, and only that one.
  const AugmentOptions never = AugmentOptions::parse("noise=20@0,horizontal_flip");
  EXPECT_EQ(never.probabilities.at("noise"), 0.0f);
  for (uint64_t seed = 0; seed < 8; ++seed) {
    std::vector<float> p = base;
    Rng rng(seed);
    augment_image(p, H, W, C, never, rng);
    std::vector<float> sorted_p = p, sorted_b = base;
    std::sort(sorted_p.begin(), sorted_p.end());
    std::sort(sorted_b.begin(), sorted_b.end());
    EXPECT_EQ(sorted_p, sorted_b);  // a flip permutes pixels; noise would change them
  }
  // untouched_fraction 1 leaves every image as it was.
  std::vector<float> same = base;
  Rng r(1);
  augment_image(same, H, W, C, AugmentOptions::parse("rotation_range=30,noise=9,untouched_fraction=1"), r);
  EXPECT_EQ(same, base);
  EXPECT_THROW(AugmentOptions::parse("mixup"), ValueError);
}

TEST(Augment, FlipsAndQuarterTurnsArePixelExact) {
  const int64_t N = 5, C = 2;
  std::vector<float> base(static_cast<size_t>(N * N * C));
  for (size_t i = 0; i < base.size(); ++i) base[i] = static_cast<float>(i);
  auto at = [&](const std::vector<float>& p, int64_t r, int64_t c, int64_t k) {
    return p[static_cast<size_t>((r * N + c) * C + k)];
  };
  auto transformed = [&](int kind) {  // 0 id, 1 h-flip, 2 v-flip, 3..5 rotations by 90/180/270
    std::vector<float> out(base.size());
    for (int64_t r = 0; r < N; ++r)
      for (int64_t c = 0; c < N; ++c)
        for (int64_t k = 0; k < C; ++k) {
          int64_t rr = r, cc = c;
          if (kind == 1) cc = N - 1 - c;
          if (kind == 2) rr = N - 1 - r;
          if (kind == 3) rr = c, cc = N - 1 - r;
          if (kind == 4) rr = N - 1 - r, cc = N - 1 - c;
          if (kind == 5) rr = N - 1 - c, cc = r;
          out[static_cast<size_t>((r * N + c) * C + k)] = at(base, rr, cc, k);
        }
    return out;
  };
  for (auto [spec, kinds] : std::vector<std::pair<const char*, std::vector<int>>>{
           {"horizontal_flip", {0, 1}}, {"vertical_flip", {0, 2}}, {"rotate90", {0, 3, 4, 5}}}) {
    std::set<int> seen;
    for (uint64_t seed = 0; seed < 40; ++seed) {
      std::vector<float> p = base;
      Rng rng(seed);
      augment_image(p, N, N, C, AugmentOptions::parse(spec), rng);
      int match = -1;
      for (int k : kinds)
        if (p == transformed(k)) match = k;
      ASSERT_GE(match, 0) << spec << " gave an image that is no exact flip/turn";
      seen.insert(match);
    }
    EXPECT_EQ(seen.size(), kinds.size()) << spec;
  }
}
