// Keras model JSON: Keras-written fixtures load, summaries match Keras's,
// to_json round-trips byte for byte, and unsupported input is named.
#include "cnn/io/keras_json.h"

#include <gtest/gtest.h>

#include "cnn/error.h"
#include "cnn/nn/layers.h"
#include "cnn/nn/presets.h"
#include "test_util.h"

using namespace cnn;
using test::fixture_path;
using test::read_text;

namespace {
std::string expect_error(const std::string& json) {
  try {
    io::model_from_json(json);
  } catch (const ValueError& e) {
    return e.what();
  } catch (const ShapeError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error for " << json;
  return "";
}
}  // namespace

TEST(KerasJson, LeNetSequentialLoadsAndRoundTrips) {
  const std::string text = read_text(fixture_path("keras/lenet_sequential.json"));
  auto model = io::model_from_json(text);
  EXPECT_TRUE(model->is_sequential());
  EXPECT_EQ(model->count_params(), 61706);
  EXPECT_EQ(model->summary(), read_text(fixture_path("keras/lenet_summary.txt")));
  EXPECT_EQ(io::model_to_json(*model), text);
  // A LeNet built in C++ writes the very same JSON.
  EXPECT_EQ(io::model_to_json(*nn::lenet()), text);
}

TEST(KerasJson, FunctionalWithAddLoadsAndRoundTrips) {
  const std::string text = read_text(fixture_path("keras/functional_add.json"));
  auto model = io::model_from_json(text);
  EXPECT_FALSE(model->is_sequential());
  EXPECT_EQ(model->count_params(), 154);
  EXPECT_EQ(model->count_trainable_params(), 146);
  EXPECT_EQ(model->summary(), read_text(fixture_path("keras/functional_add_summary.txt")));
  EXPECT_EQ(io::model_to_json(*model), text);
  EXPECT_EQ(model->call(Tensor({3, 8, 8, 3}, 0.5f)).shape(), (Shape{3, 2}));
}

TEST(KerasJson, FunctionalBuiltInCppMatchesKerasLayerOrder) {
  auto in = nn::Input({8, 8, 3});
  nn::Conv2DOptions c;
  c.filters = 4;
  c.padding = "same";
  auto x = nn::apply_layer(std::make_shared<nn::Conv2D>(c), in);
  x = nn::apply_layer(std::make_shared<nn::BatchNormalization>(), x);
  x = nn::apply_layer(std::make_shared<nn::Activation>("relu"), x);
  nn::Conv2DOptions s;
  s.filters = 4;
  s.kernel_size = {1, 1};
  auto shortcut = nn::apply_layer(std::make_shared<nn::Conv2D>(s), in);
  x = nn::apply_layer(std::make_shared<nn::Add>(), {x, shortcut});
  x = nn::apply_layer(std::make_shared<nn::GlobalAveragePooling2D>(), x);
  x = nn::apply_layer(std::make_shared<nn::Dense>(nn::DenseOptions{2, "softmax"}), x);
  nn::Model model({in}, {x});
  EXPECT_EQ(model.summary(), read_text(fixture_path("keras/functional_add_summary.txt")));
  EXPECT_EQ(io::model_to_json(model), read_text(fixture_path("keras/functional_add.json")));
}

TEST(KerasJson, ReadsKeras3Layout) {
  const std::string keras3 =
      R"({"module": "keras", "class_name": "Functional", "config": {"name": "functional",
    "trainable": true, "layers": [
    {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 6, 6, 2],
      "dtype": "float32", "sparse": false, "name": "input_layer"}, "registered_name": null, "name": "input_layer",
      "inbound_nodes": []},
    {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "conv2d", "trainable": true,
      "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}},
      "filters": 3, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "data_format": "channels_last",
      "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": true,
      "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null}},
      "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}},
      "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null,
      "kernel_constraint": null, "bias_constraint": null},
      "registered_name": null, "build_config": {"input_shape": [null, 6, 6, 2]}, "name": "conv2d",
      "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 6, 6, 2],
        "dtype": "float32", "keras_history": ["input_layer", 0, 0]}}], "kwargs": {}}]},
    {"module": "keras.layers", "class_name": "Flatten", "config": {"name": "flatten", "trainable": true,
      "data_format": "channels_last"}, "name": "flatten",
      "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 4, 4, 3],
        "dtype": "float32", "keras_history": ["conv2d", 0, 0]}}], "kwargs": {}}]}],
    "input_layers": ["input_layer", 0, 0], "output_layers": ["flatten", 0, 0]}})";
  auto model = io::model_from_json(keras3);
  EXPECT_EQ(model->output_shape(), (Shape{-1, 48}));
  EXPECT_EQ(model->count_params(), 3 * 3 * 2 * 3 + 3);
}

TEST(KerasJson, SequentialWithInputShapeOnFirstLayer) {
  // Keras <= 2.3 style: no InputLayer, batch_input_shape on the first layer.
  auto model = io::model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "Dense", "config": {"name": "d", "batch_input_shape": [null, 5], "units": 2}}]}})");
  EXPECT_EQ(model->input_shape(), (Shape{-1, 5}));
  EXPECT_EQ(model->count_params(), 12);
}

TEST(KerasJson, ErrorsNameWhatIsWrong) {
  EXPECT_NE(expect_error("{not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(expect_error(R"({"class_name": "Sequential"})").find("'class_name' and 'config'"),
            std::string::npos);
  const std::string lstm = expect_error(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 3], "name": "in"}},
      {"class_name": "LSTM", "config": {"name": "lstm", "units": 8}}]}})");
  EXPECT_NE(lstm.find("'lstm'"), std::string::npos) << lstm;
  EXPECT_NE(lstm.find("'LSTM'"), std::string::npos) << lstm;
  EXPECT_NE(lstm.find("not supported"), std::string::npos) << lstm;
  const std::string cf = expect_error(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 3], "name": "in"}},
      {"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": 3,
       "data_format": "channels_first"}}]}})");
  EXPECT_NE(cf.find("data_format"), std::string::npos) << cf;
  EXPECT_NE(cf.find("'c'"), std::string::npos) << cf;
  const std::string reg = expect_error(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "Dense", "config": {"name": "d", "batch_input_shape": [null, 5], "units": 2,
       "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.01}}}}]}})");
  EXPECT_NE(reg.find("kernel_regularizer"), std::string::npos) << reg;
  const std::string act = expect_error(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "Dense", "config": {"name": "d", "batch_input_shape": [null, 5], "units": 2,
       "activation": "gelu"}}]}})");
  EXPECT_NE(act.find("gelu"), std::string::npos) << act;
  const std::string big = expect_error(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 1], "name": "in"}},
      {"class_name": "Conv2D", "config": {"name": "conv", "filters": 2, "kernel_size": [5, 5]}}]}})");
  EXPECT_NE(big.find("larger than the input"), std::string::npos) << big;
  EXPECT_NE(big.find("'conv'"), std::string::npos) << big;
  const std::string unknown_in =
      expect_error(R"({"class_name": "Functional", "config": {"name": "m", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "name": "in"}, "name": "in",
       "inbound_nodes": []},
      {"class_name": "Dense", "config": {"name": "d", "units": 2}, "name": "d",
       "inbound_nodes": [[["nowhere", 0, 0, {}]]]}],
      "input_layers": [["in", 0, 0]], "output_layers": [["d", 0, 0]]}})");
  EXPECT_NE(unknown_in.find("nowhere"), std::string::npos) << unknown_in;
  const std::string model_cls = expect_error(R"({"class_name": "Subclassed", "config": {"layers": []}})");
  EXPECT_NE(model_cls.find("Subclassed"), std::string::npos) << model_cls;
}

// BatchNormalization's axis as Keras writes it: the input's last axis by its
// positive index ([1] after a Dense, which tf.keras refuses as [3]); an axis
// that is not the channels axis is refused with the input's shape.
TEST(KerasJson, BatchNormAxisIsTheInputsLast) {
  auto flat = io::model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6], "name": "in"}},
      {"class_name": "Dense", "config": {"name": "d", "units": 4}},
      {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": [1]}}]}})");
  EXPECT_NE(io::model_to_json(*flat).find(R"("axis": [1])"), std::string::npos) << io::model_to_json(*flat);
  auto image = io::model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 2], "name": "in"}},
      {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": -1}}]}})");
  EXPECT_NE(io::model_to_json(*image).find(R"("axis": [3])"), std::string::npos);
  const std::string rows = expect_error(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 2], "name": "in"}},
      {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": [1]}}]}})");
  EXPECT_NE(rows.find("axis 1 of input (None, 4, 4, 2) is not supported"), std::string::npos) << rows;
  // Files this engine wrote before: [3] after a Dense meant the channels axis.
  auto old = io::model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6], "name": "in"}},
      {"class_name": "Dense", "config": {"name": "d", "units": 4}},
      {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": [3]}}]}})");
  EXPECT_NE(io::model_to_json(*old).find(R"("axis": [1])"), std::string::npos);
}

// A Sequential built with model.build(shape) and no Input keeps its input
// shape beside the layers: build_input_shape (Keras 2) or build_config
// (Keras 3). It once read as "has no layers".
TEST(KerasJson, SequentialBuiltWithoutAnInput) {
  for (const char* where : {R"("build_input_shape": [null, 28, 28, 1])",
                            R"("build_config": {"input_shape": [null, 28, 28, 1]})"}) {
    auto model = io::model_from_json(std::string(R"({"class_name": "Sequential", "config": {"name": "s", )") +
                                     where + R"(, "layers": [
        {"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": [3, 3]}}]}})");
    EXPECT_EQ(model->input_shape(), (Shape{-1, 28, 28, 1}));
    EXPECT_EQ(model->output_shape(), (Shape{-1, 26, 26, 2}));
  }
}
