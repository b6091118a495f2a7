// Keras 3's .keras archives and .weights.h5 files, laid out as Keras 3
// writes them (tests/fixtures/keras3/make_keras3_files.py), against
// PyTorch-made outputs; and the zip reader's refusals.
#include "cnn/io/keras3.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "cnn/error.h"
#include "cnn/io/keras_h5.h"
#include "cnn/io/keras_json.h"
#include "cnn/io/zip_archive.h"
#include "cnn/optim/optimizer.h"
#include "hdf5_file.h"
#include "test_util.h"

namespace cnn {
namespace {

std::string fixture(const std::string& name) { return test::fixture_path("keras3/" + name); }

const test::Fixture& reference() {
  static const test::Fixture f = test::load_fixture_file(fixture("reference.json"));
  return f;
}

std::vector<uint8_t> bytes_of(const std::string& name) {
  const std::string text = test::read_text(fixture(name));
  return std::vector<uint8_t>(text.begin(), text.end());
}

std::unique_ptr<nn::Model> load_archive(const std::vector<uint8_t>& bytes) {
  const io::Keras3Archive a = io::read_keras3_archive(bytes.data(), bytes.size());
  return io::load_keras3_model(
      a.config, cnnp::read_hdf5_image(bytes.data() + a.weights_offset, a.weights_size, "model.weights.h5"));
}

TEST(Keras3, SequentialArchiveMatchesPyTorchAndKeepsItsCompileSettings) {
  auto model = load_archive(bytes_of("cnn.keras"));
  EXPECT_LT(test::rel_error(model->predict(reference().at("cnn_input")), reference().at("cnn_output")), 1e-5);
  ASSERT_TRUE(model->compiled());
  EXPECT_EQ(model->optimizer().class_name(), "Adam");
  EXPECT_FLOAT_EQ(model->optimizer().learning_rate(), 0.002f);
  EXPECT_EQ(model->loss_name(), "sparse_categorical_crossentropy");
  EXPECT_EQ(model->metric_names(), (std::vector<std::string>{"accuracy"}));
}

// Sequential([frozen Functional backbone, GAP, Dense]): the backbone's
// weights sit under layers/functional/layers/..., named by class, not by
// the layers' own names.
TEST(Keras3, NestedArchiveMatchesPyTorch) {
  auto model = load_archive(bytes_of("nested.keras"));
  EXPECT_LT(test::rel_error(model->predict(reference().at("nested_input")), reference().at("nested_output")),
            1e-5);
  EXPECT_EQ(model->count_trainable_params(), 4 * 3 + 3);
  EXPECT_NE(model->summary().find(" functional (Functional)"), std::string::npos) << model->summary();
  // Saved as tf.keras 2.x's .h5 and read back.
  io::H5Group tree;
  io::save_keras_model(*model, tree);
  auto back = io::load_keras_model(tree);
  EXPECT_EQ(back->predict(reference().at("nested_input")).to_vector(),
            model->predict(reference().at("nested_input")).to_vector());
}

// keras.io's recipe in Keras 3, a Functional calling the backbone with
// training=False: its weights file loads into the model built from its
// config alone, as does the .keras archive of it. The weights are
// nested.keras's: a Functional of the same layers lists them at the same
// paths as the Sequential (layers/functional/layers/..., the Functional's
// InputLayer taking 'input_layer' and no variables).
TEST(Keras3, AFunctionalCallingABackboneLoadsItsWeightsFile) {
  const std::vector<uint8_t> bytes = bytes_of("nested.keras");
  const io::Keras3Archive a = io::read_keras3_archive(bytes.data(), bytes.size());
  const nlohmann::json seq = nlohmann::json::parse(a.config);
  const nlohmann::json& listed = seq["config"]["layers"];
  auto call = [](const char* layer, int node, nlohmann::json shape, bool training_false) {
    nlohmann::json tensor = {
        {"class_name", "__keras_tensor__"},
        {"config", {{"shape", shape}, {"dtype", "float32"}, {"keras_history", {layer, node, 0}}}}};
    nlohmann::json kwargs = nlohmann::json::object();
    if (training_false) kwargs["training"] = false;
    return nlohmann::json::array({{{"args", {tensor}}, {"kwargs", kwargs}}});
  };
  nlohmann::json in = listed[0], backbone = listed[1], gap = listed[2], dense = listed[3];
  in["name"] = "input_layer_2";
  in["inbound_nodes"] = nlohmann::json::array();
  backbone["name"] = "functional";
  backbone["inbound_nodes"] = call("input_layer_2", 0, {nullptr, 10, 10, 3}, true);
  gap["name"] = "global_average_pooling2d";
  gap["inbound_nodes"] = call("functional", 1, {nullptr, 10, 10, 4}, false);
  dense["name"] = "dense_1";
  dense["inbound_nodes"] = call("global_average_pooling2d", 0, {nullptr, 4}, false);
  const nlohmann::json functional = {{"class_name", "Functional"},
                                     {"config",
                                      {{"name", "functional_1"},
                                       {"trainable", true},
                                       {"layers", {in, backbone, gap, dense}},
                                       {"input_layers", {{"input_layer_2", 0, 0}}},
                                       {"output_layers", {{"dense_1", 0, 0}}}}}};
  const io::H5Group weights = cnnp::read_hdf5_image(bytes.data() + a.weights_offset, a.weights_size, "w.h5");

  auto model = io::model_from_json(functional.dump(), 5);
  const io::KerasWeightsReport r = io::load_keras_weights(*model, weights);
  EXPECT_EQ(r.values, model->count_params());
  EXPECT_LT(test::rel_error(model->predict(reference().at("nested_input")), reference().at("nested_output")),
            1e-5);
  auto archived = io::load_keras3_model(functional.dump(), weights);
  EXPECT_EQ(archived->predict(reference().at("nested_input")).to_vector(),
            model->predict(reference().at("nested_input")).to_vector());
}

// Beside a branch, the outer layers' paths are numbered by class in Keras's
// model.layers order (by depth, the backbone one layer): the side pooling
// before the backbone's, 'dense' the side branch's first.
TEST(Keras3, AFunctionalsBranchesAreNumberedInKerasOrder) {
  const std::vector<uint8_t> bytes = bytes_of("nested.keras");
  const io::Keras3Archive a = io::read_keras3_archive(bytes.data(), bytes.size());
  nlohmann::json backbone = nlohmann::json::parse(a.config)["config"]["layers"][1];
  auto call = [](std::vector<const char*> from) {
    nlohmann::json args = nlohmann::json::array();
    for (const char* f : from)
      args.push_back({{"class_name", "__keras_tensor__"}, {"config", {{"keras_history", {f, 0, 0}}}}});
    return nlohmann::json::array({{{"args", from.size() == 1 ? args : nlohmann::json::array({args})},
                                   {"kwargs", nlohmann::json::object()}}});
  };
  auto layer = [&](const char* cls, const char* name, nlohmann::json config, std::vector<const char*> from) {
    config["name"] = name;
    return nlohmann::json{
        {"class_name", cls}, {"config", config}, {"name", name}, {"inbound_nodes", call(from)}};
  };
  backbone["name"] = "functional";
  backbone["inbound_nodes"] = call({"in"});
  const nlohmann::json functional = {
      {"class_name", "Functional"},
      {"config",
       {{"name", "m"},
        {"layers",
         {{{"class_name", "InputLayer"},
           {"config", {{"batch_shape", {nullptr, 10, 10, 3}}, {"name", "in"}}},
           {"name", "in"},
           {"inbound_nodes", nlohmann::json::array()}},
          backbone,
          layer("GlobalAveragePooling2D", "pool", nlohmann::json::object(), {"functional"}),
          layer("GlobalAveragePooling2D", "side_pool", nlohmann::json::object(), {"in"}),
          layer("Dense", "s1", {{"units", 5}}, {"side_pool"}),
          layer("Dense", "s2", {{"units", 2}}, {"s1"}),
          layer("Concatenate", "cat", {{"axis", -1}}, {"pool", "s2"}),
          layer("Dense", "head", {{"units", 3}}, {"cat"})}},
        {"input_layers", {{"in", 0, 0}}},
        {"output_layers", {{"head", 0, 0}}}}}};
  auto model = io::model_from_json(functional.dump(), 5);
  io::H5Group weights = cnnp::read_hdf5_image(bytes.data() + a.weights_offset, a.weights_size, "w.h5");
  // dense: s1 (3 -> 5), dense_1: s2 (5 -> 2), dense_2: head (4 + 2 -> 3).
  const std::vector<std::pair<std::string, Shape>> dense{
      {"layers/dense", {3, 5}}, {"layers/dense_1", {5, 2}}, {"layers/dense_2", {6, 3}}};
  for (size_t i = 0; i < dense.size(); ++i) {
    const Shape& k = dense[i].second;
    weights.set_dataset(dense[i].first + "/vars/0",
                        {k, std::vector<float>(static_cast<size_t>(k[0] * k[1]), static_cast<float>(i + 1))});
    weights.set_dataset(dense[i].first + "/vars/1",
                        {{k[1]}, std::vector<float>(static_cast<size_t>(k[1]), 0)});
  }
  weights.group("layers/global_average_pooling2d_1");
  weights.group("layers/concatenate");
  io::load_keras_weights(*model, weights);
  EXPECT_EQ(model->get_layer("s1")->weights()[0].value[0], 1.0f);
  EXPECT_EQ(model->get_layer("s2")->weights()[0].value[0], 2.0f);
  EXPECT_EQ(model->get_layer("head")->weights()[0].value[0], 3.0f);
}

// model.save_weights('w.weights.h5') into a model built from the same
// architecture, by its structure (the file keeps no layer names).
TEST(Keras3, WeightsFileLoadsIntoTheSameArchitecture) {
  const nlohmann::json config = nlohmann::json::parse([] {
    const std::vector<uint8_t> b = bytes_of("cnn.keras");
    return io::read_keras3_archive(b.data(), b.size()).config;
  }());
  auto model = io::model_from_json(config.dump(), 5);
  const io::H5Group weights = cnnp::read_hdf5_file(fixture("cnn.weights.h5"));
  const io::KerasWeightsReport r = io::load_keras_weights(*model, weights, {.by_name = true});
  EXPECT_EQ(r.layers, 4);
  EXPECT_EQ(r.values, model->count_params());
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("keeps no layer names"), std::string::npos);
  EXPECT_LT(test::rel_error(model->predict(reference().at("cnn_input")), reference().at("cnn_output")), 1e-5);

  // Another architecture: the layer and the place named, nothing changed.
  auto other = io::model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 12, 12, 3], "name": "in"}},
      {"class_name": "Conv2D", "config": {"name": "c", "filters": 8, "kernel_size": 3}}]}})");
  const std::vector<float> before = other->get_weights()[0].to_vector();
  const std::string e = test::error_of<ValueError>([&] { io::load_keras_weights(*other, weights); });
  EXPECT_NE(e.find("layer 'c'"), std::string::npos) << e;
  EXPECT_NE(e.find("layers/conv2d/vars/0"), std::string::npos) << e;
  EXPECT_EQ(other->get_weights()[0].to_vector(), before);
  auto fewer = io::model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 12, 12, 3], "name": "in"}},
      {"class_name": "Conv2D", "config": {"name": "c", "filters": 4, "kernel_size": 3, "padding": "same"}}]}})");
  const std::string extra = test::error_of<ValueError>([&] { io::load_keras_weights(*fewer, weights); });
  EXPECT_NE(extra.find("holds weights at 'layers/batch_normalization/vars'"), std::string::npos) << extra;
}

// Weights saved under the 'bfloat16' dtype policy (2-byte opaque values in
// h5py's file, make_bfloat16_weights.py) widen exactly to float32; other
// opaque values are named.
TEST(Keras3, Bfloat16WeightsWidenExactlyAndOtherOpaqueValuesAreNamed) {
  auto model = io::model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "name": "in"}},
      {"class_name": "Dense", "config": {"name": "dense", "units": 2}}]}})");
  const uint32_t largest_bits = 0x7F7F0000u;
  float largest;
  std::memcpy(&largest, &largest_bits, sizeof largest);
  // h5py's opaque values, and HDF5 2.0's 2-byte float with bfloat16's fields.
  for (const char* file : {"bfloat16.weights.h5", "bfloat16_float.weights.h5"}) {
    io::load_keras_weights(*model, cnnp::read_hdf5_file(fixture(file)));
    const std::vector<Tensor> w = model->get_weights();
    EXPECT_EQ(w[0].to_vector(), (std::vector<float>{1.5f, -2.25f, std::ldexp(1.0f, -126), largest,
                                                    std::ldexp(1.0f, -133), -0.5f}))
        << file;
    EXPECT_EQ(w[1].to_vector(), (std::vector<float>{0.125f, -3.0f})) << file;
  }
  // Opaque values of another width are no numbers.
  const std::string e =
      test::error_of<ValueError>([&] { cnnp::read_hdf5_file(fixture("opaque4.weights.h5")); });
  EXPECT_NE(e.find("dataset '/layers/dense/vars/0' holds neither floats nor integers"), std::string::npos)
      << e;
}

// A scalar variable (Keras 3's Normalization keeps its count so) is read as
// one value: here a third variable the Dense has not, so the file is named.
TEST(Keras3, AScalarVariableCounts) {
  auto model = io::model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "name": "in"}},
      {"class_name": "Dense", "config": {"name": "dense", "units": 2}}]}})");
  const std::string e = test::error_of<ValueError>(
      [&] { io::load_keras_weights(*model, cnnp::read_hdf5_file(fixture("scalar_var.weights.h5"))); });
  EXPECT_NE(e.find("layer 'dense' has 2 weights, the file 3"), std::string::npos) << e;
}

// compile_config's loss as Keras 3 may write it: a name, a function, or a
// loss object whose settings the engine's loss must share.
TEST(Keras3, CompileSettingsAreKeptOnlyWhereTheEngineHasThem) {
  const std::vector<uint8_t> bytes = bytes_of("cnn.keras");
  const io::Keras3Archive a = io::read_keras3_archive(bytes.data(), bytes.size());
  io::H5Group weights = cnnp::read_hdf5_image(bytes.data() + a.weights_offset, a.weights_size, "w");
  // A nested model that was compiled keeps its own optimizer's variables, not layers.
  weights.group("layers/dense/optimizer/vars").set_dataset("0", {{}, {1.0f}});
  auto with_loss = [&](const std::string& loss) {
    nlohmann::json config = nlohmann::json::parse(a.config);
    config["compile_config"]["loss"] = nlohmann::json::parse(loss);
    return io::load_keras3_model(config.dump(), weights);
  };
  auto function = with_loss(R"({"module": "keras.losses", "class_name": "function",
      "config": "sparse_categorical_crossentropy", "registered_name": "function"})");
  ASSERT_TRUE(function->compiled());
  EXPECT_EQ(function->loss_name(), "sparse_categorical_crossentropy");
  auto object = with_loss(R"({"module": "keras.losses", "class_name": "SparseCategoricalCrossentropy",
      "config": {"name": "sparse_categorical_crossentropy", "reduction": "sum_over_batch_size",
                 "from_logits": false, "ignore_class": null}, "registered_name": null})");
  ASSERT_TRUE(object->compiled());
  EXPECT_EQ(object->loss_name(), "sparse_categorical_crossentropy");
  for (const char* differs :
       {R"({"class_name": "SparseCategoricalCrossentropy", "config": {"from_logits": true}})",
        R"({"class_name": "SparseCategoricalCrossentropy", "config": {"reduction": "sum"}})"})
    EXPECT_FALSE(with_loss(differs)->compiled()) << differs;
}

TEST(Keras3, DamagedOrForeignArchivesAreNamed) {
  const std::vector<uint8_t> good = bytes_of("cnn.keras");
  auto error = [](std::vector<uint8_t> b) {
    return test::error_of<ValueError>([&] { io::read_keras3_archive(b.data(), b.size()); });
  };
  std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2));
  EXPECT_NE(error(cut).find("no end of central directory"), std::string::npos) << error(cut);
  // A flipped byte inside config.json's data.
  const std::vector<io::ZipMember> members = io::zip_members(good.data(), good.size());
  const io::ZipMember* config = io::find_zip_member(members, "config.json");
  ASSERT_NE(config, nullptr);
  std::vector<uint8_t> flipped = good;
  flipped[config->offset + 10] ^= 0x20;
  EXPECT_NE(error(flipped).find("member 'config.json' does not match its checksum"), std::string::npos);
  // A deflated member (method 8), as a re-zipping tool would leave it.
  std::vector<uint8_t> deflated = good;
  size_t dir = deflated.size() - 22;
  const size_t cd =
      deflated[dir + 16] | deflated[dir + 17] << 8 | deflated[dir + 18] << 16 | deflated[dir + 19] << 24;
  deflated[cd + 10] = 8;
  EXPECT_NE(error(deflated).find("is compressed (method 8)"), std::string::npos) << error(deflated);
  EXPECT_NE(error(std::vector<uint8_t>(100, 'x')).find("not a zip archive"), std::string::npos);
  // Two directory entries pointing at the same bytes (so a small file cannot
  // ask for its largest member's checksum again and again).
  std::vector<uint8_t> shared = good;
  size_t second = cd;
  second += 46 + (shared[second + 28] | shared[second + 29] << 8) +
            (shared[second + 30] | shared[second + 31] << 8) +
            (shared[second + 32] | shared[second + 33] << 8);
  for (int i = 0; i < 4; ++i) shared[second + 42 + i] = shared[cd + 42 + i];
  EXPECT_NE(error(shared).find("overlap"), std::string::npos) << error(shared);
}

}  // namespace
}  // namespace cnn
