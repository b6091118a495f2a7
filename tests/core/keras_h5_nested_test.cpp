// A model used as a layer of another, the course's transfer learning:
// Sequential([backbone, GlobalAveragePooling2D(), Dense(n)]) as tf.keras 2.x
// saves it (the backbone one layer of the outer model, its weights in one
// group under their own names). The files are laid out here from the
// reduced ResNet fixture and checked against its PyTorch-made outputs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cnn/data/preprocess.h"
#include "cnn/error.h"
#include "cnn/io/keras_h5.h"
#include "cnn/io/keras_json.h"
#include "cnn/nn/layers.h"
#include "cnn/nn/presets.h"
#include "cnn/nn/resnet50.h"
#include "cnn/optim/optimizer.h"
#include "hdf5_file.h"
#include "test_util.h"

namespace cnn {
namespace {

using nlohmann::json;

const nn::ResNetArchitecture kReduced{8, {2, 1, 1, 1}, {4, 8, 8, 16}};

const test::Fixture& reference() {
  static const test::Fixture f =
      test::load_fixture_file(test::fixture_path("keras_h5/reduced_resnet_reference.json"));
  return f;
}

const io::H5Group& flat_file() {
  static const io::H5Group g = cnnp::read_hdf5_file(test::fixture_path("keras_h5/reduced_resnet.h5"));
  return g;
}

// The fixture's backbone (no top), weights loaded, as a Keras Functional 'resnet'.
std::unique_ptr<nn::Model> loaded_backbone() {
  nn::ResNet50Options o;
  o.include_top = false;
  o.input_shape = {32, 32, 3};
  o.seed = 3;
  auto backbone = nn::resnet(kReduced, o, "resnet");
  io::load_keras_weights(*backbone, flat_file(), {.by_name = true});
  return backbone;
}

struct Layout {
  bool functional_outer = false;  // Model(inp, head(backbone(inp))) instead of a Sequential
  bool frozen = true;             // backbone.trainable = False before saving
  int frozen_prefix = 0;          // with frozen = false: the first n weighted layers frozen
};

// The outer model's JSON and weights as tf.keras 2.x writes them. The
// backbone's group lists, as Keras's layer.weights does, a frozen model's
// weights layer by layer, and a trainable one's trainable weights (of its
// trainable layers) before the rest.
io::H5Group nested_file(const Layout& l) {
  auto backbone = loaded_backbone();
  std::vector<nn::LayerPtr> weighted;
  for (const nn::LayerPtr& layer : backbone->layers())
    if (!layer->weights().empty()) weighted.push_back(layer);
  if (l.frozen) backbone->set_trainable(false);
  for (int i = 0; i < l.frozen_prefix; ++i) weighted[static_cast<size_t>(i)]->set_trainable(false);

  json inner = json::parse(io::model_to_json(*backbone))["config"];
  inner["trainable"] = !l.frozen;
  json gap = {{"name", "avg_pool"},
              {"trainable", true},
              {"dtype", "float32"},
              {"data_format", "channels_last"},
              {"keepdims", false}};
  json dense = {{"name", "probs"}, {"trainable", true},       {"dtype", "float32"},
                {"units", 5},      {"activation", "softmax"}, {"use_bias", true}};
  json input = {{"batch_input_shape", {nullptr, 32, 32, 3}},
                {"dtype", "float32"},
                {"sparse", false},
                {"ragged", false},
                {"name", "resnet_input"}};
  json outer;
  if (!l.functional_outer) {
    outer = {{"class_name", "Sequential"},
             {"config",
              {{"name", "sequential"},
               {"layers",
                {{{"class_name", "InputLayer"}, {"config", input}},
                 {{"class_name", "Functional"}, {"config", inner}},
                 {{"class_name", "GlobalAveragePooling2D"}, {"config", gap}},
                 {{"class_name", "Dense"}, {"config", dense}}}}}}};
  } else {
    // Keras numbers a nested model's first call node 1 (node 0 is its own
    // Input's), so the layers after it read ["resnet", 1, 0].
    auto node = [](const char* from, int index) {
      json call = json::array();  // one call, taking one tensor
      call.push_back(json::array({from, index, 0, json::object()}));
      json nodes = json::array();
      nodes.push_back(call);
      return nodes;
    };
    outer = {{"class_name", "Functional"},
             {"config",
              {{"name", "model"},
               {"trainable", true},
               {"layers",
                {{{"class_name", "InputLayer"},
                  {"config", input},
                  {"name", "resnet_input"},
                  {"inbound_nodes", json::array()}},
                 {{"class_name", "Functional"},
                  {"config", inner},
                  {"name", "resnet"},
                  {"inbound_nodes", node("resnet_input", 0)}},
                 {{"class_name", "GlobalAveragePooling2D"},
                  {"config", gap},
                  {"name", "avg_pool"},
                  {"inbound_nodes", node("resnet", 1)}},
                 {{"class_name", "Dense"},
                  {"config", dense},
                  {"name", "probs"},
                  {"inbound_nodes", node("avg_pool", 0)}}}},
               {"input_layers", {{"resnet_input", 0, 0}}},
               {"output_layers", {{"probs", 0, 0}}}}}};
  }

  io::H5Group file;
  file.string_attrs["model_config"] = outer.dump();
  file.string_attrs["keras_version"] = "2.12.0";
  file.string_attrs["backend"] = "tensorflow";
  io::H5Group& root = file.group("model_weights");
  // A Functional's model.layers lists its InputLayer (a group without weights).
  root.string_list_attrs["layer_names"] = {"resnet", "avg_pool", "probs"};
  if (l.functional_outer) {
    root.string_list_attrs["layer_names"].insert(root.string_list_attrs["layer_names"].begin(),
                                                 "resnet_input");
    root.group("resnet_input").string_list_attrs["weight_names"] = {};
  }
  root.group("avg_pool").string_list_attrs["weight_names"] = {};
  io::H5Group& probs = root.group("probs");
  probs.string_list_attrs["weight_names"] = {"probs/kernel:0", "probs/bias:0"};
  for (const char* w : {"probs/kernel:0", "probs/bias:0"})
    probs.set_dataset(w, *flat_file().find_group("probs")->find_dataset(w));
  io::H5Group& g = root.group("resnet");
  std::vector<std::string> names;
  for (int pass = 0; pass < 2; ++pass)  // trainable weights, then the rest (all at once when frozen)
    for (const nn::LayerPtr& layer : weighted)
      for (const nn::Weight& w : layer->weights()) {
        const bool first = layer->trainable() && w.trainable_kind;
        if (!l.frozen && first != (pass == 0)) continue;
        if (l.frozen && pass == 1) continue;
        const std::string name = layer->name() + "/" + w.name + ":0";
        names.push_back(name);
        g.set_dataset(name, {w.value.shape(), w.value.to_vector()});
      }
  g.string_list_attrs["weight_names"] = names;
  return file;
}

void expect_reference_outputs(nn::Model& model) {
  const Tensor x = data::preprocess_input(reference().at("images"), "caffe");
  EXPECT_LT(test::rel_error(model.predict(x), reference().at("predictions")), 1e-4);
}

TEST(KerasNested, SequentialWithAFrozenBackboneLoadsAsOneGraph) {
  auto model = io::load_keras_model(nested_file({}));
  EXPECT_EQ(model->name(), "sequential");
  EXPECT_EQ(model->input_names(), (std::vector<std::string>{"resnet_input"}));
  EXPECT_EQ(model->input_shape(), (Shape{-1, 32, 32, 3}));
  EXPECT_EQ(model->count_trainable_params(), 64 * 5 + 5);  // the head only: the backbone is frozen
  expect_reference_outputs(*model);
  EXPECT_NO_THROW(model->get_layer("conv5_block1_out"));
}

TEST(KerasNested, TrainableBackboneListsItsStatisticsLast) {
  auto model = io::load_keras_model(nested_file({.frozen = false}));
  EXPECT_EQ(
      model->count_trainable_params(), model->count_params() - [&] {
        int64_t stats = 0;
        for (const nn::LayerPtr& l : model->layers())
          for (const nn::Weight& w : l->weights())
            if (!w.trainable_kind) stats += w.value.numel();
        return stats;
      }());
  expect_reference_outputs(*model);
}

// backbone.trainable = True with its first layers frozen: their weights
// come after the trainable layers', so the group's order is not the model's.
TEST(KerasNested, PartlyFrozenBackboneLoadsByItsLayerNames) {
  auto model = io::load_keras_model(nested_file({.frozen = false, .frozen_prefix = 5}));
  EXPECT_FALSE(model->get_layer("conv1_conv")->trainable());
  EXPECT_TRUE(model->get_layer("conv5_block1_3_conv")->trainable());
  expect_reference_outputs(*model);
}

TEST(KerasNested, FunctionalOuterModelReadsTheNestedModelsCallNode) {
  auto model = io::load_keras_model(nested_file({.functional_outer = true}));
  EXPECT_EQ(model->name(), "model");
  expect_reference_outputs(*model);
}

// The h5py check of Keras's layout, where python3-h5py is installed.
void expect_keras_layout(const io::H5Group& tree, const std::string& name) {
  if (std::system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") != 0) {
    std::printf("python3-h5py is not installed: the h5py layout check is skipped\n");
    return;
  }
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("cnnp_nested_" + std::to_string(::getpid()) + "_" + name + ".h5"))
                               .string();
  cnnp::write_hdf5_file(tree, path);
  const std::string cmd =
      "/usr/bin/python3 " + test::fixture_path("keras_h5/check_keras_layout.py") + " " + path;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::filesystem::remove(path);
}

// Loaded and saved again, the model is written as Keras wrote it: the
// Sequential, the backbone one Functional layer with its own input, its
// weights in one group in Keras's order (frozen: layer by layer;
// trainable: the moving statistics last), so Keras's load_weights, which
// goes by position, reads them back.
TEST(KerasNested, SavedBackAsKerasWroteIt) {
  for (const Layout& layout :
       {Layout{}, Layout{.frozen = false}, Layout{.frozen = false, .frozen_prefix = 5}}) {
    const io::H5Group file = nested_file(layout);
    auto model = io::load_keras_model(file);
    io::H5Group saved;
    io::save_keras_model(*model, saved);
    const json config = json::parse(saved.string_attrs.at("model_config"));
    EXPECT_EQ(config["class_name"], "Sequential");
    const json& layers = config["config"]["layers"];
    ASSERT_EQ(layers.size(), 4u);
    EXPECT_EQ(layers[0]["config"]["name"], "resnet_input");
    EXPECT_EQ(layers[1]["class_name"], "Functional");
    const json& inner = layers[1]["config"];
    EXPECT_EQ(inner["name"], "resnet");
    EXPECT_EQ(inner["trainable"], !layout.frozen);
    EXPECT_EQ(inner["layers"][0]["class_name"], "InputLayer");
    EXPECT_EQ(inner["input_layers"][0][0], inner["layers"][0]["name"]);
    EXPECT_EQ(inner["output_layers"][0][0], "conv5_block1_out");
    EXPECT_EQ(layers[3]["config"]["name"], "probs");
    const io::H5Group& weights = *saved.find_group("model_weights");
    EXPECT_EQ(weights.keras_string_list("layer_names"),
              (std::vector<std::string>{"resnet", "avg_pool", "probs"}));
    const io::H5Group& want = *file.find_group("model_weights/resnet");
    EXPECT_EQ(weights.find_group("resnet")->keras_string_list("weight_names"),
              want.keras_string_list("weight_names"));
    expect_keras_layout(saved,
                        "frozen" + std::to_string(layout.frozen) + std::to_string(layout.frozen_prefix));

    auto back = io::load_keras_model(saved);
    expect_reference_outputs(*back);
    EXPECT_EQ(back->count_trainable_params(), model->count_trainable_params());
  }
}

// keras.io's recipe, a Functional calling the backbone: saved back as Keras
// wrote it, the backbone one layer called on the input and read through its
// call (node 1), its weights in one group in Keras's order, so that the
// author's own model loads them by position; saved again, the same.
TEST(KerasNested, FunctionalOuterModelIsSavedNested) {
  for (const Layout& layout :
       {Layout{.functional_outer = true}, Layout{.functional_outer = true, .frozen = false}}) {
    const io::H5Group file = nested_file(layout);
    auto model = io::load_keras_model(file);
    ASSERT_NE(model->nested(), nullptr);
    EXPECT_TRUE(model->nested()->functional_outer);
    io::H5Group saved;
    io::save_keras_model(*model, saved);
    const json config = json::parse(saved.string_attrs.at("model_config"));
    const json want = json::parse(file.string_attrs.at("model_config"));
    EXPECT_EQ(config["class_name"], "Functional");
    const json& layers = config["config"]["layers"];
    ASSERT_EQ(layers.size(), 4u);
    for (size_t i = 0; i < layers.size(); ++i) {
      EXPECT_EQ(layers[i]["name"], want["config"]["layers"][i]["name"]);
      EXPECT_EQ(layers[i]["inbound_nodes"], want["config"]["layers"][i]["inbound_nodes"]) << i;
    }
    EXPECT_EQ(config["config"]["input_layers"], want["config"]["input_layers"]);
    EXPECT_EQ(config["config"]["output_layers"], want["config"]["output_layers"]);
    const json& inner = layers[1]["config"];
    EXPECT_EQ(inner["trainable"], !layout.frozen);
    EXPECT_EQ(inner["layers"][0]["config"]["batch_input_shape"], json::parse("[null, 32, 32, 3]"));
    EXPECT_EQ(inner["output_layers"][0][0], "conv5_block1_out");
    const io::H5Group& weights = *saved.find_group("model_weights");
    EXPECT_EQ(weights.keras_string_list("layer_names"),
              (std::vector<std::string>{"resnet_input", "resnet", "avg_pool", "probs"}));
    EXPECT_EQ(weights.find_group("resnet")->keras_string_list("weight_names"),
              file.find_group("model_weights/resnet")->keras_string_list("weight_names"));
    expect_keras_layout(saved, "functional" + std::to_string(layout.frozen));

    auto back = io::load_keras_model(saved);
    expect_reference_outputs(*back);
    EXPECT_EQ(back->count_trainable_params(), model->count_trainable_params());
    io::H5Group again;
    io::save_keras_model(*back, again);
    EXPECT_EQ(again.string_attrs.at("model_config"), saved.string_attrs.at("model_config"));
  }
}

// The recipe in full: a layer before the backbone, which is called with
// training=False, and two heads on its pooled output. The backbone's own
// Input takes the shape of the tensor it is called on.
TEST(KerasNested, FunctionalOuterWithALayerBeforeTheBackboneAndTwoHeads) {
  const io::H5Group file = nested_file({.functional_outer = true});
  json cfg = json::parse(file.string_attrs.at("model_config"));
  json& layers = cfg["config"]["layers"];
  const json scale = {{"class_name", "Rescaling"},
                      {"config", {{"name", "scale"}, {"scale", 1.0}, {"offset", 0.0}}},
                      {"name", "scale"},
                      {"inbound_nodes", json::parse(R"([[["resnet_input", 0, 0, {}]]])")}};
  layers.insert(layers.begin() + 1, scale);
  layers[2]["inbound_nodes"] = json::parse(R"([[["scale", 0, 0, {"training": false}]]])");
  layers.push_back({{"class_name", "Dense"},
                    {"config", {{"name", "aux"}, {"units", 2}}},
                    {"name", "aux"},
                    {"inbound_nodes", json::parse(R"([[["avg_pool", 0, 0, {}]]])")}});
  cfg["config"]["output_layers"] = json::parse(R"([["probs", 0, 0], ["aux", 0, 0]])");
  auto model = io::model_from_json(cfg.dump(), 5);
  io::load_keras_weights(*model, file, {.by_name = true, .allow_missing = true});

  const json saved = json::parse(io::model_to_json(*model));
  EXPECT_EQ(saved["class_name"], "Functional");
  std::vector<std::string> names;
  for (const json& l : saved["config"]["layers"]) names.push_back(l["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"resnet_input", "scale", "resnet", "avg_pool", "probs", "aux"}));
  const json& resnet = saved["config"]["layers"][2];
  EXPECT_EQ(resnet["inbound_nodes"], layers[2]["inbound_nodes"]);
  EXPECT_EQ(resnet["config"]["layers"][0]["config"]["batch_input_shape"], json::parse("[null, 32, 32, 3]"));
  EXPECT_EQ(saved["config"]["layers"][3]["inbound_nodes"], json::parse(R"([[["resnet", 1, 0, {}]]])"));
  EXPECT_EQ(saved["config"]["output_layers"], cfg["config"]["output_layers"]);
  const std::string summary = model->summary();
  // Two heads: Keras's table with "Connected to", the backbone one row.
  EXPECT_NE(
      summary.find("\n resnet (Functional)            (None, 1, 1, 64)     13248       ['scale[0][0]']" +
                   std::string(18, ' ') + "\n"),
      std::string::npos)
      << summary;
  EXPECT_NE(
      summary.find("\n avg_pool (GlobalAveragePooling  (None, 64)          0           ['resnet[1][0]']" +
                   std::string(17, ' ') + "\n"),
      std::string::npos)
      << summary;
  EXPECT_NE(summary.find("Total params: 13,703\nTrainable params: 455\n"), std::string::npos) << summary;

  io::H5Group tree;
  io::save_keras_model(*model, tree);
  expect_keras_layout(tree, "recipe");
  auto back = io::load_keras_model(tree);
  const Tensor x = data::preprocess_input(reference().at("images"), "caffe");
  EXPECT_EQ(back->predict(x).to_vector(), model->predict(x).to_vector());
  expect_reference_outputs(*back);
}

// Keras lists the outer model's layers by depth with the backbone one
// layer: a longer branch beside it puts its first layers before it, where
// the engine's own flat order (the backbone's many layers deepest) would not.
TEST(KerasNested, ABranchBesideTheBackboneKeepsKerasOrder) {
  const io::H5Group file = nested_file({.functional_outer = true});
  json cfg = json::parse(file.string_attrs.at("model_config"));
  json& layers = cfg["config"]["layers"];
  auto layer = [](const char* cls, const char* name, json config, const char* from,
                  const char* also = nullptr) {
    config["name"] = name;
    json call = json::array({json::array({from, 0, 0, json::object()})});
    if (also) call.push_back(json::array({also, 0, 0, json::object()}));
    return json{
        {"class_name", cls}, {"config", config}, {"name", name}, {"inbound_nodes", json::array({call})}};
  };
  layers.erase(layers.begin() + 3);  // probs
  for (const json& l :
       {layer("GlobalAveragePooling2D", "gap2", json::object(), "resnet_input"),
        layer("Dense", "d1", {{"units", 4}}, "gap2"), layer("Dense", "d2", {{"units", 4}}, "d1"),
        layer("Dense", "d3", {{"units", 4}}, "d2"),
        layer("Concatenate", "cat", {{"axis", -1}}, "avg_pool", "d3"),
        layer("Dense", "out", {{"units", 2}}, "cat")})
    layers.push_back(l);
  cfg["config"]["output_layers"] = json::parse(R"([["out", 0, 0]])");
  auto model = io::model_from_json(cfg.dump(), 5);
  const std::vector<std::string> keras_order{"resnet_input", "gap2", "d1",  "resnet", "d2",
                                             "avg_pool",     "d3",   "cat", "out"};
  const json saved = json::parse(io::model_to_json(*model));
  std::vector<std::string> names;
  for (const json& l : saved["config"]["layers"]) names.push_back(l["name"]);
  EXPECT_EQ(names, keras_order);
  io::H5Group tree;
  io::save_keras_weights(*model, tree);
  EXPECT_EQ(tree.keras_string_list("layer_names"), keras_order);
  EXPECT_NE(model->summary().find("['d1[0][0]']"), std::string::npos) << model->summary();
}

// keras.io's transfer recipe with its augmentation as a Sequential the
// Functional calls first: the backbone keeps its record, the augmentation
// is written inline (it holds no weights, so the author's model still
// loads the file's weights by position, and Keras 3's paths are the same).
TEST(KerasNested, AnAugmentationSequentialBeforeTheBackboneIsWrittenInline) {
  const io::H5Group file = nested_file({.functional_outer = true});
  json cfg = json::parse(file.string_attrs.at("model_config"));
  json& layers = cfg["config"]["layers"];
  const json augmentation = {
      {"class_name", "Sequential"},
      {"config",
       {{"name", "data_augmentation"},
        {"layers",
         {{{"class_name", "RandomFlip"}, {"config", {{"name", "random_flip"}, {"mode", "horizontal"}}}},
          {{"class_name", "RandomRotation"}, {"config", {{"name", "random_rotation"}, {"factor", 0.1}}}}}}}},
      {"name", "data_augmentation"},
      {"inbound_nodes", json::parse(R"([[["resnet_input", 0, 0, {}]]])")}};
  layers.insert(layers.begin() + 1, augmentation);
  layers[2]["inbound_nodes"] = json::parse(R"([[["data_augmentation", 1, 0, {"training": false}]]])");
  auto model = io::model_from_json(cfg.dump(), 5);
  ASSERT_NE(model->nested(), nullptr);
  EXPECT_EQ(model->nested()->name, "resnet");
  io::load_keras_weights(*model, *file.find_group("model_weights"));
  expect_reference_outputs(*model);  // the augmentation passes inference through

  io::H5Group saved;
  io::save_keras_model(*model, saved);
  const json out = json::parse(saved.string_attrs.at("model_config"));
  std::vector<std::string> names;
  for (const json& l : out["config"]["layers"]) names.push_back(l["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"resnet_input", "random_flip", "random_rotation", "resnet",
                                             "avg_pool", "probs"}));
  EXPECT_EQ(out["config"]["layers"][3]["inbound_nodes"],
            json::parse(R"([[["random_rotation", 0, 0, {"training": false}]]])"));
  expect_keras_layout(saved, "augmented");
  expect_reference_outputs(*io::load_keras_model(saved));
}

// A Sequential's backbone is its first layer; a model later in it is
// written inline, as the chain it runs as.
TEST(KerasNested, AModelInASequentialsHeadIsWrittenInline) {
  json cfg = json::parse(nested_file({}).string_attrs.at("model_config"));
  json& layers = cfg["config"]["layers"];
  layers[3] = {{"class_name", "Sequential"}, {"config", {{"name", "head"}, {"layers", {layers[3]}}}}};
  auto model = io::model_from_json(cfg.dump());
  ASSERT_NE(model->nested(), nullptr);
  const json saved = json::parse(io::model_to_json(*model));
  EXPECT_EQ(saved["class_name"], "Sequential");
  EXPECT_EQ(saved["config"]["layers"][1]["class_name"], "Functional");
  EXPECT_EQ(saved["config"]["layers"][3]["config"]["name"], "probs");
}

// The course's weights loaded into the playground's own transfer model (one
// flat graph: the backbone's layers, then a head named 'dense'): by order,
// and by name for the backbone alone.
TEST(KerasNested, WeightsLoadIntoTheFlatTransferModel) {
  const io::H5Group file = nested_file({});
  const io::H5Group& weights = *file.find_group("model_weights");
  auto fresh = [] {
    nn::ResNet50Options o;
    o.include_top = false;
    o.input_shape = {32, 32, 3};
    o.seed = 9;
    return nn::classifier_on(*nn::resnet(kReduced, o, "resnet"), 5, 4);
  };
  auto by_order = fresh();
  const io::KerasWeightsReport r = io::load_keras_weights(*by_order, weights);
  EXPECT_EQ(r.values, by_order->count_params());
  expect_reference_outputs(*by_order);

  auto by_name = fresh();
  const std::string miss =
      test::error_of<ValueError>([&] { io::load_keras_weights(*by_name, weights, {.by_name = true}); });
  EXPECT_NE(miss.find("no weights for layer(s) 'dense'"), std::string::npos) << miss;
  EXPECT_NE(miss.find("the file has instead 'probs'"), std::string::npos) << miss;
  io::load_keras_weights(*by_name, weights, {.by_name = true, .allow_missing = true});
  const Tensor x = data::preprocess_input(reference().at("images"), "caffe");
  EXPECT_LT(test::rel_error(by_name->layer_outputs(x, {"conv5_block1_out"})[0], reference().at("conv5_out")),
            1e-4);
}

// A weight the nested group lacks is named with the nested model.
TEST(KerasNested, AShapeMismatchNamesTheNestedModel) {
  io::H5Group file = nested_file({});
  io::H5Group& g = *file.group("model_weights").groups["resnet"];
  g.set_dataset("conv1_conv/kernel:0", {{7, 7, 3, 2}, std::vector<float>(7 * 7 * 3 * 2)});
  const std::string e = test::error_of<ValueError>([&] { io::load_keras_model(file); });
  EXPECT_NE(e.find("layer 'conv1_conv' of nested model 'resnet'"), std::string::npos) << e;
  EXPECT_NE(e.find("(7, 7, 3, 2)"), std::string::npos) << e;
}

TEST(KerasNested, JsonErrorsNameTheNestedModel) {
  const std::string clash = test::error_of<ValueError>([] {
    io::model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "name": "in"}},
      {"class_name": "Dense", "config": {"name": "d", "units": 3}},
      {"class_name": "Sequential", "config": {"name": "head", "layers": [
        {"class_name": "Dense", "config": {"name": "d", "units": 2}}]}}]}})");
  });
  EXPECT_NE(clash.find("two layers are named 'd'"), std::string::npos) << clash;
  const std::string shape = test::error_of<ValueError>([] {
    io::model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "name": "in"}},
      {"class_name": "Sequential", "config": {"name": "head", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6], "name": "head_in"}},
        {"class_name": "Dense", "config": {"name": "d", "units": 2}}]}}]}})");
  });
  EXPECT_NE(shape.find("Sequential 'head' expects input (None, 6) but is called on (None, 4)"),
            std::string::npos)
      << shape;
}

// Keras 2.2's Sequential([conv_base, ...]): no InputLayer in the outer
// config, the nested class "Model" with its own InputLayer giving the shape.
TEST(KerasNested, OldSequentialOfAModelTakesTheModelsInput) {
  auto model = io::model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "Model", "config": {"name": "conv_base", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 8, 8, 3], "name": "input_1"},
         "name": "input_1", "inbound_nodes": []},
        {"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": [3, 3]}, "name": "c",
         "inbound_nodes": [[["input_1", 0, 0, {}]]]}],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["c", 0, 0]]}},
      {"class_name": "Flatten", "config": {"name": "f"}},
      {"class_name": "Dense", "config": {"name": "d", "units": 2}}]}})");
  EXPECT_EQ(model->input_names(), (std::vector<std::string>{"conv_base_input"}));
  EXPECT_EQ(model->input_shape(), (Shape{-1, 8, 8, 3}));
  EXPECT_EQ(model->output_shape(), (Shape{-1, 2}));
}

// A backbone made without an input shape (ResNet50(include_top=False))
// has None for height and width; called on a 16x16 input it takes that.
TEST(KerasNested, ABackboneWithoutAnInputShapeTakesTheCallersInput) {
  auto model = io::model_from_json(R"({"class_name": "Functional", "config": {"name": "m", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 16, 16, 3], "name": "in"}, "name": "in",
       "inbound_nodes": []},
      {"class_name": "Functional", "config": {"name": "base", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, null, null, 3], "name": "input_1"},
         "name": "input_1", "inbound_nodes": []},
        {"class_name": "Conv2D", "config": {"name": "c", "filters": 4, "kernel_size": [3, 3]}, "name": "c",
         "inbound_nodes": [[["input_1", 0, 0, {}]]]}],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["c", 0, 0]]},
       "name": "base", "inbound_nodes": [[["in", 0, 0, {"training": false}]]]},
      {"class_name": "GlobalAveragePooling2D", "config": {"name": "gap"}, "name": "gap",
       "inbound_nodes": [[["base", 1, 0, {}]]]}],
      "input_layers": [["in", 0, 0]], "output_layers": [["gap", 0, 0]]}})");
  EXPECT_EQ(model->output_shape(), (Shape{-1, 4}));
  const std::string channels = test::error_of<ValueError>([] {
    io::model_from_json(R"({"class_name": "Functional", "config": {"name": "m", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 16, 16, 1], "name": "in"}, "name": "in",
       "inbound_nodes": []},
      {"class_name": "Functional", "config": {"name": "base", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, null, null, 3], "name": "input_1"},
         "name": "input_1", "inbound_nodes": []}],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["input_1", 0, 0]]},
       "name": "base", "inbound_nodes": [[["in", 0, 0, {}]]]}],
      "input_layers": [["in", 0, 0]], "output_layers": [["base", 1, 0]]}})");
  });
  EXPECT_NE(channels.find(
                "nested model 'base' expects input (None, None, None, 3) but is called on (None, 16, 16, 1)"),
            std::string::npos)
      << channels;
}

// keras.io's recipe, x = base(inputs, training=False): the base's
// BatchNormalization stays in inference mode in training too, also once
// unfrozen for fine-tuning (gamma and beta still learn); saved, the base's
// call is written with training=False, as it was read, and read back.
TEST(KerasNested, ACallWithTrainingFalseKeepsBatchNormInInference) {
  const std::string base = R"({"class_name": "Functional", "config": {"name": "base", "trainable": false,
      "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6, 6, 2], "name": "input_1"},
         "name": "input_1", "inbound_nodes": []},
        {"class_name": "Conv2D", "config": {"name": "c", "filters": 3, "kernel_size": [3, 3], "trainable": false},
         "name": "c", "inbound_nodes": [[["input_1", 0, 0, {}]]]},
        {"class_name": "BatchNormalization", "config": {"name": "bn", "trainable": false}, "name": "bn",
         "inbound_nodes": [[["c", 0, 0, {}]]]}],
      "input_layers": [["input_1", 0, 0]], "output_layers": [["bn", 0, 0]]})";
  auto outer = [&](const char* kwargs) {
    return io::model_from_json(std::string(R"({"class_name": "Functional", "config": {"name": "m", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6, 6, 2], "name": "in"}, "name": "in",
       "inbound_nodes": []},)") + base +
                                   R"(, "name": "base", "inbound_nodes": [[["in", 0, 0, )" + kwargs + R"(]]]},
      {"class_name": "Flatten", "config": {"name": "f"}, "name": "f", "inbound_nodes": [[["base", 1, 0, {}]]]}],
      "input_layers": [["in", 0, 0]], "output_layers": [["f", 0, 0]]}})",
                               3);
  };
  const Tensor x = test::random_tensor({4, 6, 6, 2}, 5, 2.0f);
  auto pinned = outer(R"({"training": false})");
  auto plain = outer("{}");
  for (auto* m : {pinned.get(), plain.get()}) m->set_trainable(true);  // unfrozen for fine-tuning
  const auto train = [&](nn::Model& m) { return m.call(std::vector<Tensor>{x}, true)[0].to_vector(); };
  const auto infer = [&](nn::Model& m) { return m.call(std::vector<Tensor>{x}, false)[0].to_vector(); };
  EXPECT_EQ(train(*pinned), infer(*pinned));
  EXPECT_NE(train(*plain), infer(*plain));  // batch statistics in training

  pinned->compile(std::make_shared<optim::Adam>(), "mse");
  const nn::Model::Gradients g = pinned->loss_gradients(x, Tensor({4, 48}, 0.5f));
  const std::vector<Tensor> w = pinned->get_weights();  // c kernel, c bias, bn gamma, beta, mean, variance
  ASSERT_EQ(g.weight_grads.size(), w.size());
  double gamma_grad = 0;
  for (float v : g.weight_grads[2].to_vector()) gamma_grad += std::abs(v);
  EXPECT_GT(gamma_grad, 0.0);

  // The call is written with training=False, as it was read; its
  // BatchNormalization's own call without.
  const std::string saved = io::model_to_json(*pinned);
  EXPECT_NE(saved.find(R"("name": "base", "inbound_nodes": [[["in", 0, 0, {"training": false}]]])"),
            std::string::npos)
      << saved;
  EXPECT_NE(saved.find(R"("name": "bn", "inbound_nodes": [[["c", 0, 0, {}]]])"), std::string::npos) << saved;
  auto back = io::model_from_json(saved, 3);
  back->set_trainable(true);
  EXPECT_EQ(train(*back), infer(*back));

  // In a flat graph the BatchNormalization's own call says it.
  auto flat = io::model_from_json(R"({"class_name": "Functional", "config": {"name": "m", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6, 6, 2], "name": "in"}, "name": "in",
       "inbound_nodes": []},
      {"class_name": "Conv2D", "config": {"name": "c", "filters": 3, "kernel_size": [3, 3]}, "name": "c",
       "inbound_nodes": [[["in", 0, 0, {}]]]},
      {"class_name": "BatchNormalization", "config": {"name": "bn"}, "name": "bn",
       "inbound_nodes": [[["c", 0, 0, {"training": false}]]]}],
      "input_layers": [["in", 0, 0]], "output_layers": [["bn", 0, 0]]}})",
                                  3);
  EXPECT_EQ(train(*flat), infer(*flat));
  const std::string flat_saved = io::model_to_json(*flat);
  EXPECT_NE(flat_saved.find(R"([["c", 0, 0, {"training": false}]])"), std::string::npos) << flat_saved;
}

// Several inputs come in input_layers' order, which is how predict takes
// them, not in the layers list's depth order.
TEST(KerasNested, InputsFollowInputLayersOrder) {
  auto model = io::model_from_json(R"({"class_name": "Functional", "config": {"name": "m", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "name": "img"}, "name": "img",
       "inbound_nodes": []},
      {"class_name": "Dense", "config": {"name": "d", "units": 2}, "name": "d", "inbound_nodes": [[["img", 0, 0, {}]]]},
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 5], "name": "meta"}, "name": "meta",
       "inbound_nodes": []},
      {"class_name": "Concatenate", "config": {"name": "cat", "axis": -1}, "name": "cat",
       "inbound_nodes": [[["d", 0, 0, {}], ["meta", 0, 0, {}]]]}],
      "input_layers": [["meta", 0, 0], ["img", 0, 0]], "output_layers": [["cat", 0, 0]]}})");
  EXPECT_EQ(model->input_names(), (std::vector<std::string>{"meta", "img"}));
  const std::vector<Tensor> out = model->call({Tensor({1, 5}, 1.0f), Tensor({1, 3}, 0.0f)}, false);
  EXPECT_EQ(out[0].shape(), (Shape{1, 7}));
}

// A Sequential inside a Sequential, first layer and without an InputLayer:
// its declared input shape starts the graph, named as Keras names it.
TEST(KerasNested, NestedSequentialFirstGivesTheInput) {
  auto model = io::model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "Sequential", "config": {"name": "body", "trainable": false, "layers": [
        {"class_name": "Dense", "config": {"name": "d1", "units": 3, "batch_input_shape": [null, 4]}}]}},
      {"class_name": "Dense", "config": {"name": "d2", "units": 2}}]}})");
  EXPECT_EQ(model->input_names(), (std::vector<std::string>{"body_input"}));
  EXPECT_EQ(model->output_shape(), (Shape{-1, 2}));
  EXPECT_FALSE(model->get_layer("d1")->trainable());
  EXPECT_EQ(model->count_trainable_params(), 3 * 2 + 2);
}

// A nested Sequential without an input shape inside one built with
// model.build(shape): the outer model's build shape starts the graph.
TEST(KerasNested, NestedSequentialFirstTakesTheOuterBuildShape) {
  auto model = io::model_from_json(R"({"class_name": "Sequential", "config": {"name": "s",
      "build_input_shape": [null, 4], "layers": [
      {"class_name": "Sequential", "config": {"name": "body", "layers": [
        {"class_name": "Dense", "config": {"name": "d1", "units": 3}}]}},
      {"class_name": "Dense", "config": {"name": "d2", "units": 2}}]}})");
  EXPECT_EQ(model->input_shape(), (Shape{-1, 4}));
  EXPECT_EQ(model->count_params(), 4 * 3 + 3 + 3 * 2 + 2);
}

// A nested model with one weighted layer keeps its weights in the model's
// group under that layer's name: loading by name finds them there where the
// file's config says the group is a model. A layer renamed after it was
// built keeps its group's name (its weights the old one), as in Keras, and
// a file layer of the right name comes first.
TEST(KerasNested, ANestedModelWithOneWeightedLayerLoadsByName) {
  const std::string config = R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "Sequential", "config": {"name": "body", "layers": [
        {"class_name": "Dense", "config": {"name": "d1", "units": 3, "batch_input_shape": [null, 4]}}]}},
      {"class_name": "Dense", "config": {"name": "renamed", "units": 2}}]}})";
  auto model = io::model_from_json(config);
  io::H5Group file;
  file.string_attrs["model_config"] = config;
  io::H5Group& root = file.group("model_weights");
  root.string_list_attrs["layer_names"] = {"body", "renamed"};
  const auto fill = [](io::H5Group& parent, const std::string& group, const std::string& owner, Shape kernel,
                       float base) {
    io::H5Group& g = parent.group(group);
    g.string_list_attrs["weight_names"] = {owner + "/kernel:0", owner + "/bias:0"};
    std::vector<float> k(static_cast<size_t>(kernel[0] * kernel[1])), b(static_cast<size_t>(kernel[1]));
    for (size_t i = 0; i < k.size(); ++i) k[i] = base + 0.01f * static_cast<float>(i);
    for (size_t i = 0; i < b.size(); ++i) b[i] = -base - static_cast<float>(i);
    g.set_dataset(owner + "/kernel:0", {kernel, k});
    g.set_dataset(owner + "/bias:0", {{kernel[1]}, b});
  };
  fill(root, "body", "d1", {4, 3}, 0.5f);
  fill(root, "renamed", "dense_7", {3, 2}, 2.0f);
  const auto zero = [](nn::Model& m) {
    for (const nn::LayerPtr& l : m.layers())
      for (nn::Weight& w : l->weights()) w.value.fill(0.0f);
  };
  for (const bool by_name : {true, false}) {
    zero(*model);
    const io::KerasWeightsReport r = io::load_keras_weights(*model, file, {.by_name = by_name});
    EXPECT_EQ(r.layers, 2);
    const std::vector<nn::Weight>& d1 = model->get_layer("d1")->weights();
    EXPECT_FLOAT_EQ(d1[0].value[11], 0.5f + 0.01f * 11);
    EXPECT_FLOAT_EQ(d1[1].value[2], -2.5f);
    EXPECT_FLOAT_EQ(model->get_layer("renamed")->weights()[1].value[1], -3.0f);
  }

  // Weights only: no config says 'body' is a model, so by name it fills no
  // 'd1' (Keras matches group names), and 'dense_7' fills no layer of that name.
  auto other = io::model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "Dense", "config": {"name": "d1", "units": 3, "batch_input_shape": [null, 4]}},
      {"class_name": "Dense", "config": {"name": "dense_7", "units": 2}}]}})");
  zero(*other);
  const io::KerasWeightsReport partial =
      io::load_keras_weights(*other, root, {.by_name = true, .allow_missing = true});
  EXPECT_EQ(partial.layers, 0);
  EXPECT_EQ(other->get_layer("d1")->weights()[1].value[2], 0.0f);

  // A file layer named 'd1' beside the nested group: the name wins.
  root.string_list_attrs["layer_names"] = {"d1", "body", "renamed"};
  fill(root, "d1", "d1", {4, 3}, 7.0f);
  zero(*model);
  io::load_keras_weights(*model, file, {.by_name = true, .allow_missing = true});
  EXPECT_FLOAT_EQ(model->get_layer("d1")->weights()[1].value[2], -9.0f);
}

// tf.keras 2.12's plain three-column summary of the fixture's transfer
// model, `first_rows` before the backbone's row (each row's lines, then
// the line of spaces Keras prints after it).
std::string transfer_summary(const std::string& model, const std::string& first_rows) {
  const std::string blank(65, ' ');
  const std::string rows = first_rows +
                           " resnet (Functional)         (None, 1, 1, 64)          13248     \n" + blank +
                           "\n"
                           " avg_pool (GlobalAveragePool  (None, 64)               0         \n"
                           " ing2D)                                                          \n" +
                           blank +
                           "\n"
                           " probs (Dense)               (None, 5)                 325       \n" +
                           blank + "\n";
  return "Model: \"" + model + "\"\n" + std::string(65, '_') +
         "\n"
         " Layer (type)                Output Shape              Param #   \n" +
         std::string(65, '=') + "\n" + rows + std::string(65, '=') +
         "\n"
         "Total params: 13,573\n"
         "Trainable params: 325\n"
         "Non-trainable params: 13,248\n" +
         std::string(65, '_') + "\n";
}

// summary() shows the backbone as the one row Keras prints for it.
TEST(KerasNested, SummaryShowsTheBackboneAsOneLayer) {
  EXPECT_EQ(io::load_keras_model(nested_file({}))->summary(), transfer_summary("sequential", ""));
}

// A Functional calling the backbone on its input, then a chain: the plain
// table, its InputLayer a row as Keras lists it.
TEST(KerasNested, SummaryOfAFunctionalShowsItsInputAndTheBackbone) {
  EXPECT_EQ(io::load_keras_model(nested_file({.functional_outer = true}))->summary(),
            transfer_summary("model", " resnet_input (InputLayer)   [(None, 32, 32, 3)]       0         \n" +
                                          std::string(65, ' ') + "\n"));
}

}  // namespace
}  // namespace cnn
