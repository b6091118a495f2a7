// Keras HDF5 files: weights against PyTorch-made references
// (tests/fixtures/keras_h5/make_keras_resnet.py), legacy names, errors,
// save/load round trips and the frozen-backbone transfer model.
#include "cnn/io/keras_h5.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "cnn/data/flow.h"
#include "cnn/data/image.h"
#include "cnn/data/preprocess.h"
#include "cnn/data/synthetic.h"
#include "cnn/error.h"
#include "cnn/nn/layers.h"
#include "cnn/nn/presets.h"
#include "cnn/nn/resnet50.h"
#include "cnn/optim/optimizer.h"
#include "hdf5_file.h"
#include "test_util.h"

namespace cnn {
namespace {

namespace fs = std::filesystem;

// The reduced ResNet of the fixtures: ResNet50's structure and names.
const nn::ResNetArchitecture kReduced{8, {2, 1, 1, 1}, {4, 8, 8, 16}};

std::unique_ptr<nn::Model> reduced_resnet(bool include_top, uint64_t seed = 1) {
  nn::ResNet50Options o;
  o.include_top = include_top;
  o.input_shape = {32, 32, 3};
  o.classes = 5;
  o.seed = seed;
  return nn::resnet(kReduced, o, "resnet");
}

io::H5Group read_fixture(const std::string& name) {
  return cnnp::read_hdf5_file(test::fixture_path("keras_h5/" + name));
}

const test::Fixture& reference() {
  static const test::Fixture f =
      test::load_fixture_file(test::fixture_path("keras_h5/reduced_resnet_reference.json"));
  return f;
}

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("cnnp_keras_h5_" + std::to_string(::getpid()) + "_" + name)).string();
}

void expect_outputs_match(nn::Model& model, const std::string& prefix) {
  const Tensor x = data::preprocess_input(reference().at("images"), "caffe");
  std::vector<Tensor> out = model.layer_outputs(x, {"conv5_block1_out", "predictions"});
  EXPECT_LT(test::rel_error(out[0], reference().at(prefix + "conv5_out")), 1e-4);
  EXPECT_LT(test::rel_error(out[1], reference().at(prefix + "predictions")), 1e-4);
}

TEST(KerasH5, ReducedResNetMatchesPyTorch) {
  auto model = reduced_resnet(true);
  io::KerasWeightsReport r = io::load_keras_weights(*model, read_fixture("reduced_resnet.h5"));
  EXPECT_FALSE(r.legacy_names);
  EXPECT_EQ(r.values, model->count_params());
  // The file's top is named 'probs': order decides, the difference is reported.
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("'probs' -> 'predictions'"), std::string::npos) << r.notes[0];
  expect_outputs_match(*model, "");
}

TEST(KerasH5, LegacyNamesMapOntoTheSameNetwork) {
  auto model = reduced_resnet(true);
  io::KerasWeightsReport r = io::load_keras_weights(*model, read_fixture("reduced_resnet_legacy.h5"));
  EXPECT_TRUE(r.legacy_names);
  auto* bn = dynamic_cast<nn::BatchNormalization*>(model->get_layer("conv3_block1_0_bn").get());
  ASSERT_NE(bn, nullptr);
  EXPECT_FLOAT_EQ(bn->epsilon(), 1e-3f);
  // The legacy file lists each first block's shortcut after its main branch:
  // matched by name, not position, or 0_conv would get 3_conv's weights.
  expect_outputs_match(*model, "legacy_");
}

// keras-applications 0.2's epsilon goes only to the layers its file filled:
// a BatchNormalization the file has no weights for keeps its own.
TEST(KerasH5, LegacyEpsilonOnlyWhereTheFileLoaded) {
  auto in = nn::Input({4, 4, 2});
  nn::BatchNormOptions own;
  own.epsilon = 0.05f;
  auto filled = std::make_shared<nn::BatchNormalization>(own, "conv1_bn");
  auto kept = std::make_shared<nn::BatchNormalization>(own, "head_bn");
  nn::Model model({in}, {nn::apply_layer(kept, nn::apply_layer(filled, in))}, "m", 1);
  io::H5Group legacy;
  legacy.string_list_attrs["layer_names"] = {"bn_conv1"};
  io::H5Group& g = legacy.group("bn_conv1");
  g.string_list_attrs["weight_names"] = {"bn_conv1/gamma:0", "bn_conv1/beta:0", "bn_conv1/moving_mean:0",
                                         "bn_conv1/moving_variance:0"};
  for (const char* w : {"gamma:0", "beta:0", "moving_mean:0", "moving_variance:0"})
    g.group("bn_conv1").datasets[w] = io::H5Dataset{{2}, {1.0f, 1.0f}};
  const io::KerasWeightsReport r =
      io::load_keras_weights(model, legacy, {.by_name = true, .allow_missing = true});
  EXPECT_TRUE(r.legacy_names);
  EXPECT_FLOAT_EQ(filled->epsilon(), 1e-3f);
  EXPECT_FLOAT_EQ(kept->epsilon(), 0.05f);
}

TEST(KerasH5, LegacyNameMapping) {
  EXPECT_EQ(io::modern_resnet_layer_name("bn_conv1"), "conv1_bn");
  EXPECT_EQ(io::modern_resnet_layer_name("conv1"), "conv1_conv");
  EXPECT_EQ(io::modern_resnet_layer_name("res4f_branch2c"), "conv4_block6_3_conv");
  EXPECT_EQ(io::modern_resnet_layer_name("bn3a_branch1"), "conv3_block1_0_bn");
  EXPECT_EQ(io::modern_resnet_layer_name("fc1000"), "predictions");
  EXPECT_EQ(io::modern_resnet_layer_name("bn5c_branch2b"), "conv5_block3_2_bn");
  EXPECT_EQ(io::modern_resnet_layer_name("res2a_branch2a"), "conv2_block1_1_conv");
  EXPECT_EQ(io::modern_resnet_layer_name("dense_1"), "dense_1");
  // Near misses keep their names.
  for (const char* kept :
       {"res6a_branch2a", "res1a_branch1", "res2A_branch1", "res2a_branch2d", "res2a_branch2ab",
        "res2a_branch", "bn2a_branc1", "rs2a_branch1", "res2", "bn", "xres2a_branch1"})
    EXPECT_EQ(io::modern_resnet_layer_name(kept), kept);
}

TEST(KerasH5, ByNameLoadsTheBackboneOfAFileWithATop) {
  auto model = reduced_resnet(false);
  EXPECT_THROW(io::load_keras_weights(*model, read_fixture("reduced_resnet.h5")), ValueError);
  io::KerasWeightsReport r =
      io::load_keras_weights(*model, read_fixture("reduced_resnet.h5"), {.by_name = true});
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes.back().find("'probs'"), std::string::npos);
  const Tensor x = data::preprocess_input(reference().at("images"), "caffe");
  EXPECT_LT(test::rel_error(model->predict(x), reference().at("conv5_out")), 1e-4);
}

std::string error_of(const std::function<void()>& f) { return test::error_of<ValueError>(f); }

TEST(KerasH5, MismatchesNameTheLayerAndBothShapesAndChangeNothing) {
  nn::ResNetArchitecture wider = kReduced;
  wider.stem_filters = 16;
  nn::ResNet50Options o;
  o.input_shape = {32, 32, 3};
  o.classes = 5;
  auto model = nn::resnet(wider, o);
  const std::vector<Tensor> before = model->get_weights();
  const std::string e = error_of([&] { io::load_keras_weights(*model, read_fixture("reduced_resnet.h5")); });
  EXPECT_NE(e.find("'conv1_conv'"), std::string::npos) << e;
  EXPECT_NE(e.find("(7, 7, 3, 16)"), std::string::npos) << e;
  EXPECT_NE(e.find("(7, 7, 3, 8)"), std::string::npos) << e;
  const std::vector<Tensor> after = model->get_weights();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(test::rel_error(after[i], before[i]), 0.0);

  // Without the top: one weighted layer fewer than the file, and which.
  auto notop = reduced_resnet(false);
  const std::string e2 = error_of([&] { io::load_keras_weights(*notop, read_fixture("reduced_resnet.h5")); });
  EXPECT_NE(e2.find("the file has more, starting with 'probs'"), std::string::npos) << e2;

  // Another model's file: LeNet against ResNet weights.
  auto lenet = nn::lenet();
  const std::string e3 = error_of([&] { io::load_keras_weights(*lenet, read_fixture("reduced_resnet.h5")); });
  EXPECT_NE(e3.find("the model has 5 layers with weights, the file 41"), std::string::npos) << e3;

  io::H5Group empty;
  EXPECT_NE(error_of([&] { io::load_keras_weights(*lenet, empty); }).find("no 'layer_names'"),
            std::string::npos);
}

TEST(KerasH5, HdfReaderNamesTheFileItCannotRead) {
  const std::string path = temp_path("not_hdf5.h5");
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fputs("plain text", f);
  std::fclose(f);
  const std::string e = error_of([&] { cnnp::read_hdf5_file(path); });
  EXPECT_NE(e.find(path), std::string::npos);
  EXPECT_NE(e.find("not an HDF5 file"), std::string::npos);
  fs::remove(path);
}

TEST(KerasH5, WeightsRoundTripThroughAFile) {
  auto a = reduced_resnet(true, 3);
  auto b = reduced_resnet(true, 4);
  io::H5Group tree;
  io::save_keras_weights(*a, tree);
  const std::string path = temp_path("weights.h5");
  cnnp::write_hdf5_file(tree, path);
  io::KerasWeightsReport r = io::load_keras_weights(*b, cnnp::read_hdf5_file(path));
  EXPECT_TRUE(r.notes.empty());
  const Tensor x = test::random_tensor({2, 32, 32, 3}, 5, 50.0f);
  EXPECT_EQ(test::rel_error(b->predict(x), a->predict(x)), 0.0);
  fs::remove(path);
}

TEST(KerasH5, LargeStringListsAreChunkedAsKerasDoes) {
  // 200 layer names of ~400 characters pass HDF5's 64 KiB header limit.
  std::vector<nn::LayerPtr> layers{std::make_shared<nn::InputLayer>(Shape{4}, "in")};
  for (int i = 0; i < 200; ++i)
    layers.push_back(std::make_shared<nn::Activation>("relu", std::string(400, 'a') + std::to_string(i)));
  nn::Sequential model(layers);
  io::H5Group tree;
  io::save_keras_weights(model, tree);
  EXPECT_FALSE(tree.string_list_attrs.count("layer_names"));
  EXPECT_TRUE(tree.string_list_attrs.count("layer_names0"));
  EXPECT_TRUE(tree.string_list_attrs.count("layer_names1"));
  EXPECT_EQ(tree.keras_string_list("layer_names").size(), 200u);
}

TEST(KerasH5, FullModelRoundTrip) {
  auto backbone = reduced_resnet(false);
  io::load_keras_weights(*backbone, read_fixture("reduced_resnet.h5"), {.by_name = true});
  backbone->set_trainable(false);
  auto model = nn::classifier_on(*backbone, 3, 9);
  model->compile(std::make_shared<optim::Adam>(0.002f), "sparse_categorical_crossentropy", {"accuracy"});
  io::H5Group tree;
  io::save_keras_model(*model, tree, R"({"class_names": ["a", "b", "c"]})");
  const std::string path = temp_path("model.h5");
  cnnp::write_hdf5_file(tree, path);

  std::string meta;
  auto loaded = io::load_keras_model(cnnp::read_hdf5_file(path), &meta);
  EXPECT_EQ(meta, R"({"class_names": ["a", "b", "c"]})");
  EXPECT_EQ(loaded->preprocessing(), "caffe");
  ASSERT_TRUE(loaded->compiled());
  EXPECT_EQ(loaded->optimizer().class_name(), "Adam");
  EXPECT_FLOAT_EQ(loaded->optimizer().learning_rate(), 0.002f);
  EXPECT_EQ(loaded->loss_name(), "sparse_categorical_crossentropy");
  EXPECT_EQ(loaded->count_params(), model->count_params());
  // The frozen flag travels in the layer configs, as in Keras.
  EXPECT_EQ(loaded->count_trainable_params(), model->count_trainable_params());
  const Tensor x = test::random_tensor({2, 32, 32, 3}, 6, 50.0f);
  EXPECT_EQ(test::rel_error(loaded->predict(x), model->predict(x)), 0.0);
  // The layout, read by h5py as Keras would read it.
  if (std::system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") == 0) {
    const std::string cmd =
        "/usr/bin/python3 " + test::fixture_path("keras_h5/check_keras_layout.py") + " " + path;
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  } else {
    std::printf("python3-h5py is not installed: the h5py layout check is skipped\n");
  }
  fs::remove(path);
  EXPECT_NE(error_of([&] { io::load_keras_model(read_fixture("reduced_resnet.h5")); }).find("weights-only"),
            std::string::npos);
}

// A training_config this engine cannot restore (RMSprop) leaves the model
// loaded but uncompiled, as Keras's compile=False, instead of failing the
// load; Keras 2's nested metrics keep their accuracy.
TEST(KerasH5, TrainingConfigIsRestoredWhereItCanBe) {
  auto model = nn::lenet({12, 12, 1}, 3, 9);
  model->compile(std::make_shared<optim::Adam>(0.002f), "sparse_categorical_crossentropy", {"accuracy"});
  io::H5Group tree;
  io::save_keras_model(*model, tree, "");
  tree.string_attrs["training_config"] = R"({"loss": "sparse_categorical_crossentropy",
      "metrics": [[{"class_name": "MeanMetricWrapper", "config": {"name": "accuracy", "dtype": "float32"}}]],
      "optimizer_config": {"class_name": "Adam", "config": {"learning_rate": 0.002}}})";
  auto nested = io::load_keras_model(tree);
  ASSERT_TRUE(nested->compiled());
  EXPECT_EQ(nested->metric_names(), (std::vector<std::string>{"accuracy"}));
  tree.string_attrs["training_config"] = R"({"loss": "sparse_categorical_crossentropy", "metrics": ["mae"],
      "optimizer_config": {"class_name": "RMSprop", "config": {"learning_rate": 0.001}}})";
  auto loaded = io::load_keras_model(tree);
  EXPECT_FALSE(loaded->compiled());
  const Tensor x = test::random_tensor({2, 12, 12, 1}, 6);
  EXPECT_EQ(loaded->predict(x).to_vector(), model->predict(x).to_vector());
}

// Files this reader does not take say what is wrong with them; a by-name
// miss lists the file's own names beside the model's.
TEST(KerasH5, UnreadLayoutsAndMissesAreExplained) {
  auto model = nn::lenet({12, 12, 1}, 3, 9);
  io::H5Group keras3;  // Keras 3's save_weights (layers/<path>/vars/<i>), without the values
  keras3.group("layers/conv2d/vars");
  const std::string empty = error_of([&] { io::load_keras_weights(*model, keras3); });
  EXPECT_NE(empty.find("Keras 3 weights: layer 'conv2d' has 2 weights, the file 0 at 'layers/conv2d/vars'"),
            std::string::npos)
      << empty;
  io::H5Group renamed;  // a layer named as another Keras session numbered it
  renamed.string_list_attrs["layer_names"] = {"conv2d_7"};
  renamed.group("conv2d_7").string_list_attrs["weight_names"] = {"conv2d_7/kernel:0"};
  const std::string e = error_of([&] { io::load_keras_weights(*model, renamed, {.by_name = true}); });
  EXPECT_NE(e.find("loading by name); the file has instead 'conv2d_7'"), std::string::npos) << e;
}

// h5py's fixed-length ASCII strings hold UTF-8 bytes (a layer 'couche_été',
// classes 'café' and '猫'), read here as written (the JS reader, through
// h5wasm, once took them byte by byte).
TEST(KerasH5, NonAsciiNamesReadAsWritten) {
  std::string meta;
  auto model = io::load_keras_model(read_fixture("utf8_names.h5"), &meta);
  EXPECT_EQ(meta, R"({"class_names": ["café", "猫"]})");
  EXPECT_EQ(model->layers().back()->name(), "couche_été");
  EXPECT_EQ(model->predict(Tensor({1, 2}, std::vector<float>{1, 1})).to_vector(),
            (std::vector<float>{4.5f, 5.5f}));
}

// float16 weights (tf.keras under set_floatx('float16')) widen exactly,
// whatever byte order the file gives (make_half_weights.py).
TEST(KerasH5, HalfPrecisionWeightsReadExactly) {
  auto model = io::load_keras_model(read_fixture("half_weights.h5"));
  const std::vector<Tensor> w = model->get_weights();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].to_vector(), (std::vector<float>{1.5f, -2.25f, std::ldexp(1.0f, -14), 65504.0f,
                                                  std::ldexp(1.0f, -24), -0.5f}));
  EXPECT_EQ(w[1].to_vector(), (std::vector<float>{0.125f, -3.0f}));
}

// One epoch of head training leaves every backbone value, moving statistics
// included, bit for bit as loaded; the head moves.
TEST(KerasH5, FrozenBackboneStaysBitIdentical) {
  auto backbone = reduced_resnet(false);
  io::load_keras_weights(*backbone, read_fixture("reduced_resnet.h5"), {.by_name = true});
  const std::vector<Tensor> loaded = backbone->get_weights();
  std::vector<std::vector<float>> loaded_values;
  for (const Tensor& t : loaded) loaded_values.push_back(t.to_vector());
  backbone->set_trainable(false);
  auto model = nn::classifier_on(*backbone, 3, 2);
  EXPECT_EQ(model->count_trainable_params(), 16 * 4 * 3 + 3);  // Dense(3) on 64 features
  const std::string summary = model->summary();
  EXPECT_NE(summary.find("Trainable params: 195"), std::string::npos) << summary;
  EXPECT_NE(summary.find("Non-trainable params: "), std::string::npos);
  const std::vector<float> head_before = model->get_layer("dense")->weights()[0].value.to_vector();

  auto task = data::make_synthetic_task(
      {.samples = 48, .height = 32, .width = 32, .channels = 3, .classes = 3, .seed = 4});
  model->compile(std::make_shared<optim::Adam>(), "sparse_categorical_crossentropy", {"accuracy"});
  model->fit(task.x, task.y, {.batch_size = 16, .epochs = 1, .seed = 1});

  const std::vector<Tensor> after = backbone->get_weights();
  ASSERT_EQ(after.size(), loaded_values.size());
  for (size_t i = 0; i < after.size(); ++i)
    EXPECT_EQ(after[i].to_vector(), loaded_values[i]) << "weight " << i;
  EXPECT_NE(model->get_layer("dense")->weights()[0].value.to_vector(), head_before);
}

// A frozen backbone records nothing for backward, even in a training-mode
// call: its output needs no gradient, so no activation is kept for one.
TEST(KerasH5, FrozenBackboneRecordsNothingForBackward) {
  auto backbone = reduced_resnet(false);
  const Tensor x = test::random_tensor({2, 32, 32, 3}, 8, 50.0f);
  EXPECT_TRUE(backbone->call(std::vector<Tensor>{x}, true)[0].requires_grad());
  backbone->set_trainable(false);
  EXPECT_FALSE(backbone->call(std::vector<Tensor>{x}, true)[0].requires_grad());
  auto model = nn::classifier_on(*backbone, 3);
  EXPECT_TRUE(model->call(std::vector<Tensor>{x}, true)[0].requires_grad());  // the head still trains
}

// The course's transfer learning end to end: a generated folder of class
// folders (each class its own colour scheme under noise and a random
// distractor patch), the loaded ResNet backbone frozen, GAP + Dense trained.
TEST(KerasH5, TransferLearningOnAFolderTrainsTheHead) {
  const int classes = 4;
  const uint8_t palette[classes][3] = {{200, 60, 60}, {60, 170, 70}, {70, 80, 200}, {210, 200, 60}};
  Rng rng(11);
  auto files = std::make_shared<data::MemoryFiles>();
  for (int i = 0; i < 160; ++i) {
    const int label = i % classes;
    data::Image img{32, 32, 3, std::vector<uint8_t>(32 * 32 * 3)};
    const int64_t px = static_cast<int64_t>(rng.uniform(0.0f, 22.0f)),
                  py = static_cast<int64_t>(rng.uniform(0.0f, 22.0f));
    const float patch[3] = {rng.uniform(0.0f, 255.0f), rng.uniform(0.0f, 255.0f), rng.uniform(0.0f, 255.0f)};
    for (int64_t y = 0; y < 32; ++y)
      for (int64_t x = 0; x < 32; ++x)
        for (int c = 0; c < 3; ++c) {
          const bool in_patch = y >= py && y < py + 10 && x >= px && x < px + 10;
          const float v = (in_patch ? patch[c] : palette[label][c]) + rng.normal() * 40.0f;
          img.pixels[static_cast<size_t>((y * 32 + x) * 3 + c)] =
              static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f));
        }
    files->add("class_" + std::to_string(label) + "/img_" + std::to_string(i) + ".png",
               data::encode_png(img));
  }
  data::FlowOptions fo;
  fo.target_height = fo.target_width = 32;
  fo.class_mode = data::ClassMode::Sparse;
  fo.batch_size = 16;
  fo.validation_split = 0.25;
  fo.seed = 3;
  fo.preprocessing = "caffe";
  data::FlowOptions train_opt = fo, val_opt = fo;
  train_opt.subset = data::Subset::Training;
  val_opt.subset = data::Subset::Validation;
  val_opt.shuffle = false;
  data::ImageFlow train(files, train_opt), val(files, val_opt);

  // The fixture's weights, then a short "pretraining" on the task so the
  // BatchNormalization statistics fit these images, as ImageNet's fit photos.
  auto backbone = reduced_resnet(false);
  io::load_keras_weights(*backbone, read_fixture("reduced_resnet.h5"), {.by_name = true});
  {
    auto pretrain = nn::classifier_on(*backbone, classes, 5);
    pretrain->compile(std::make_shared<optim::Adam>(0.001f), "sparse_categorical_crossentropy", {"accuracy"});
    pretrain->fit(train, {.epochs = 20, .seed = 1});
  }
  backbone->set_trainable(false);
  auto model = nn::classifier_on(*backbone, classes, 6);
  model->compile(std::make_shared<optim::Adam>(0.01f), "sparse_categorical_crossentropy", {"accuracy"});
  train::History h = model->fit(train, {.epochs = 10, .validation_dataset = &val, .seed = 2});
  const double acc = h.history.at("val_accuracy").back();
  EXPECT_GT(acc, 0.6) << "chance is 0.25";
}

// Full-size ResNet50 against PyTorch, when python3-torch and python3-h5py are here.
TEST(KerasH5, FullResNet50MatchesPyTorch) {
  if (std::system("/usr/bin/python3 -c 'import torch, h5py' >/dev/null 2>&1") != 0)
    GTEST_SKIP()
        << "python3-torch and python3-h5py are not installed: the full ResNet50 comparison is skipped";
  const std::string dir = temp_path("full");
  const std::string cmd =
      "/usr/bin/python3 " + test::fixture_path("keras_h5/make_keras_resnet.py") + " --full --out " + dir;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto model = nn::resnet50({.include_top = false});
  EXPECT_EQ(model->count_params(), 23587712);
  io::load_keras_weights(*model, cnnp::read_hdf5_file(dir + "/resnet50_random_notop.h5"));
  const test::Fixture ref = test::load_fixture_file(dir + "/resnet50_random_reference.json");
  const Tensor out = model->predict(data::preprocess_input(ref.at("images"), "caffe"));
  EXPECT_LT(test::rel_error(out, ref.at("conv5_out")), 1e-4);
  fs::remove_all(dir);
}

TEST(Preprocess, CaffeModeIsKerasPreprocessInput) {
  Tensor x({1, 1, 2, 3});
  const float px[] = {10, 20, 30, 255, 0, 128};
  for (int i = 0; i < 6; ++i) x[i] = px[i];
  const Tensor y = data::preprocess_input(x, "caffe");
  const float want[] = {30 - 103.939f,  20 - 116.779f, 10 - 123.68f,
                        128 - 103.939f, 0 - 116.779f,  255 - 123.68f};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(y[i], want[i]);
  EXPECT_THROW(data::preprocess_input(Tensor({1, 2, 2, 1}), "caffe"), ValueError);
  EXPECT_THROW(data::preprocess_input(x, "torch"), ValueError);
}

TEST(H5Tree, ADatasetWhoseShapeOverflowsOrDisagreesWithItsValuesIsRefused) {
  // The fuzzer's shape: its product overflows int64 (UB before it was checked).
  io::H5Group root;
  EXPECT_THROW(root.set_dataset("w", {{281462092005375, 65535, 65535}, {1.0f}}), ValueError);
  EXPECT_THROW(root.set_dataset("w", {{2, -1}, {1.0f, 2.0f}}), ValueError);
  EXPECT_THROW(root.set_dataset("w", {{2, 2}, {1.0f, 2.0f}}), ValueError);
  root.set_dataset("w", {{2, 1}, {1.0f, 2.0f}});
  root.set_dataset("s", {{}, {3.0f}});
  ASSERT_NE(root.find_dataset("w"), nullptr);
}

}  // namespace
}  // namespace cnn
