// The native CLI, run as a process (native builds only).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cnn/device.h"
#include "test_util.h"

using namespace cnn;

TEST(Cli, SummaryPrintsKerasTable) {
  const std::string out_path = ::testing::TempDir() + "cnnp_summary.txt";
  const std::string cmd = std::string(CNNP_EXE) + " summary --model " +
                          test::fixture_path("keras/lenet_sequential.json") + " > " + out_path;
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(test::read_text(out_path), test::read_text(test::fixture_path("keras/lenet_summary.txt")));
  const std::string bad = std::string(CNNP_EXE) + " summary --model /nonexistent.json 2> " + out_path;
  EXPECT_NE(std::system(bad.c_str()), 0);
  EXPECT_NE(test::read_text(out_path).find("/nonexistent.json"), std::string::npos);
  std::remove(out_path.c_str());
}

namespace {
std::string run(const std::string& args, const std::string& out_path) {
  const std::string cmd = std::string(CNNP_EXE) + " " + args + " > " + out_path + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::string out = test::read_text(out_path);
  EXPECT_EQ(rc, 0) << cmd << "\n" << out;
  return out;
}
}  // namespace

// End to end: a generated folder of 2,000 PNGs in 10 classes, trained with
// `cnnp train` (LeNet, validation split), then `cnnp predict` on one image.
TEST(Cli, TrainsFromAFolderAndPredicts) {
  const std::string dir = ::testing::TempDir() + "cnnp_e2e";
  const std::string log = dir + ".log";
  std::system(("rm -rf " + dir).c_str());
  run("make-dataset --out " + dir + " --samples 2000 --size 28x28 --classes 10 --seed 21", log);
  const std::string out = run("train --data " + dir +
                                  " --model lenet --color-mode grayscale --validation-split 0.2 "
                                  "--epochs 5 --seed 3 --json --save " +
                                  dir + "/model.cnnp",
                              log);
  EXPECT_NE(out.find("images belonging to 10 classes."), std::string::npos) << out;
  EXPECT_NE(out.find("class_indices: {'class_0': 0, 'class_1': 1,"), std::string::npos) << out;
  double val_accuracy = 0;
  int epochs = 0;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] == '{') {
      auto j = nlohmann::json::parse(line);
      val_accuracy = j.at("val_accuracy");
      EXPECT_GT(j.at("images_per_s").get<double>(), 0);
      ++epochs;
    }
  EXPECT_EQ(epochs, 5);
  EXPECT_GE(val_accuracy, 0.9) << out;
  const std::string pred = run("predict --model " + dir + "/model.cnnp --image " + dir + "/class_3/$(ls " +
                                   dir + "/class_3 | head -1) --json",
                               log);
  auto j = nlohmann::json::parse(pred.substr(pred.find('{')));
  EXPECT_EQ(j.at("output").size(), 10u);
  EXPECT_EQ(j.at("top5").size(), 5u);
  std::system(("rm -rf " + dir + " " + log).c_str());
}

TEST(Cli, BadDataIsExplained) {
  const std::string dir = ::testing::TempDir() + "cnnp_bad";
  const std::string log = dir + ".log";
  std::system(("rm -rf " + dir + " && mkdir -p " + dir + " && touch " + dir + "/loose.png").c_str());
  const std::string cmd =
      std::string(CNNP_EXE) + " train --data " + dir + " --model lenet > " + log + " 2>&1";
  EXPECT_NE(std::system(cmd.c_str()), 0);
  EXPECT_NE(test::read_text(log).find("no class folders"), std::string::npos) << test::read_text(log);
  const std::string size =
      std::string(CNNP_EXE) + " train --data " + dir + " --model lenet --target-size 0x5 > " + log + " 2>&1";
  EXPECT_NE(std::system(size.c_str()), 0);
  EXPECT_NE(test::read_text(log).find("--target-size"), std::string::npos) << test::read_text(log);
  std::system(("rm -rf " + dir + " " + log).c_str());
}

// Options are checked: a mistyped one is named, a flag does not take the
// option after it as its value (--freeze-backbone once ate --epochs 2, which
// then trained the default 5 epochs), and a --save path is checked first.
TEST(Cli, OptionsAreCheckedAndFlagsTakeNoValue) {
  const std::string dir = ::testing::TempDir() + "cnnp_options";
  const std::string log = dir + ".log";
  std::system(("rm -rf " + dir).c_str());
  run("make-dataset --out " + dir + " --samples 8 --size 28x28 --classes 2 --seed 1", log);
  const std::string train = "train --data " + dir + " --model lenet --color-mode grayscale ";
  const std::string out = run(train + "--freeze-backbone --epochs 2", log);
  EXPECT_NE(out.find("Epoch 2/2"), std::string::npos) << out;
  EXPECT_EQ(out.find("Epoch 3/"), std::string::npos) << out;
  const auto refused = [&](const std::string& args, const std::string& says) {
    const std::string cmd = std::string(CNNP_EXE) + " " + args + " > " + log + " 2>&1";
    EXPECT_NE(std::system(cmd.c_str()), 0) << args;
    EXPECT_NE(test::read_text(log).find(says), std::string::npos) << args << "\n" << test::read_text(log);
  };
  refused(train + "--epoch 2", "unknown option '--epoch': cnnp train takes --augment, --batch-size,");
  refused(train + "--epochs 2 3", "unexpected '3'");
  refused(train + "--json=yes", "--json takes no value");
  refused(train + "--epochs --json", "--epochs needs a value");
  refused("predict --model lenet --image a.png --include_top false", "unknown option '--include_top'");
  // A --save that could not be written is refused before training, not after.
  refused(train + "--save " + dir + "/model.keras",
          "expected a name ending in .h5 (Keras's HDF5 model) or .cnnp");
  EXPECT_EQ(test::read_text(log).find("Epoch"), std::string::npos) << test::read_text(log);
  refused(train + "--save " + dir + "/missing/model.h5", "the folder '" + dir + "/missing' does not exist");
  EXPECT_EQ(test::read_text(log).find("Epoch"), std::string::npos) << test::read_text(log);
  refused(train + "--memory-budget -5", "--memory-budget must be 0 MiB or more");
  std::system(("printf 'PK\\003\\004' > " + dir + "/model.keras").c_str());
  refused("predict --model " + dir + "/model.keras --image " + dir + "/x.png",
          "zip archive: the bytes are not a zip archive (expected a Keras 3 .keras file");
  // A Keras 3 .keras model predicts (12x12x3 input, 5 classes; the image is resized and made RGB).
  const std::string keras3 =
      run("predict --model " + test::fixture_path("keras3/cnn.keras") + " --json --image " + dir +
              "/class_0/$(ls " + dir + "/class_0 | head -1)",
          log);
  EXPECT_EQ(nlohmann::json::parse(keras3.substr(keras3.find('{'))).at("output").size(), 5u) << keras3;
  EXPECT_NE(run("train --help", log).find("usage: cnnp <command>"), std::string::npos);
  std::system(("rm -rf " + dir + " " + log).c_str());
}

// predict feeds images as the model was trained: a 'caffe' model is saved
// with rescale 0 (none), which predict once applied as a factor of 0, so
// that every image gave the same answer.
TEST(Cli, PredictFeedsImagesAsTheModelWasTrained) {
  const std::string dir = ::testing::TempDir() + "cnnp_caffe";
  const std::string log = dir + ".log";
  std::system(("rm -rf " + dir).c_str());
  run("make-dataset --out " + dir + " --samples 20 --size 28x28 --classes 2 --color-mode rgb --seed 4", log);
  run("train --data " + dir + " --model lenet --preprocess caffe --epochs 1 --save " + dir + "/m.h5", log);
  std::vector<std::vector<double>> outputs;
  for (const char* cls : {"class_0", "class_1"}) {
    const std::string out = run("predict --model " + dir + "/m.h5 --json --image " + dir + "/" + cls +
                                    "/$(ls " + dir + "/" + cls + " | head -1)",
                                log);
    outputs.push_back(
        nlohmann::json::parse(out.substr(out.find('{'))).at("output").get<std::vector<double>>());
  }
  EXPECT_NE(outputs[0], outputs[1]);
  std::system(("rm -rf " + dir + " " + log).c_str());
}

// A class folder that is a link keeps its own name (the link's target was
// once listed as class '..'); links inside it are not followed, as Keras's
// follow_links=False, so a link back up does not loop; a broken link is
// named and skipped like an undecodable image.
TEST(Cli, LinkedClassFoldersKeepTheirNames) {
  const std::string dir = ::testing::TempDir() + "cnnp_links";
  const std::string log = dir + ".log";
  std::system(("rm -rf " + dir).c_str());
  run("make-dataset --out " + dir + "/real --samples 8 --size 28x28 --classes 2 --seed 1", log);
  std::system(("mkdir -p " + dir + "/data && ln -s " + dir + "/real/class_0 " + dir + "/data/cats && cp -r " +
               dir + "/real/class_1 " + dir + "/data/dogs && ln -s " + dir + "/data " + dir +
               "/data/dogs/loop && ln -s " + dir + "/nowhere.png " + dir + "/data/dogs/broken.png")
                  .c_str());
  const std::string out =
      run("train --data " + dir + "/data --model lenet --color-mode grayscale --epochs 1", log);
  EXPECT_NE(out.find("Found 9 images belonging to 2 classes."), std::string::npos) << out;
  EXPECT_NE(out.find("class_indices: {'cats': 0, 'dogs': 1}"), std::string::npos) << out;
  EXPECT_NE(out.find("skipped unreadable image: cannot open '" + dir + "/data/dogs/broken.png'"),
            std::string::npos)
      << out;
  std::system(("rm -rf " + dir + " " + log).c_str());
}

// --device: an unknown name and an unavailable GPU are refused, naming why;
// where a GPU answers, LeNet trains on it.
TEST(Cli, DeviceIsChosenOrRefused) {
  const std::string dir = ::testing::TempDir() + "cnnp_device";
  const std::string log = dir + ".log";
  std::system(("rm -rf " + dir).c_str());
  run("make-dataset --out " + dir + " --samples 40 --size 28x28 --classes 2 --seed 1", log);
  const auto train = [&](const std::string& device) {
    const std::string cmd = std::string(CNNP_EXE) + " train --data " + dir +
                            " --model lenet --color-mode grayscale --epochs 1 --device " + device + " > " +
                            log + " 2>&1";
    return std::system(cmd.c_str());
  };
  EXPECT_NE(train("tpu"), 0);
  EXPECT_NE(test::read_text(log).find("device 'tpu' is not known, expected cpu or cuda"), std::string::npos)
      << test::read_text(log);
  if (cnn::device_available(cnn::Device::CUDA)) {
    EXPECT_EQ(train("cuda"), 0) << test::read_text(log);
    EXPECT_NE(test::read_text(log).find("device: "), std::string::npos) << test::read_text(log);
  } else {
    EXPECT_NE(train("cuda"), 0);
    EXPECT_NE(test::read_text(log).find("cuda is not available: "), std::string::npos)
        << test::read_text(log);
  }
  EXPECT_EQ(train("cpu"), 0) << test::read_text(log);
  std::system(("rm -rf " + dir + " " + log).c_str());
}

// The course's ResNet50 transfer learning from the command line: the frozen
// backbone + GAP + Dense trained and saved as Keras HDF5, predictions from
// that file and from keras.applications' architecture, and a wrong weights
// file named with its layer.
TEST(Cli, ResNet50TransferTrainsSavesAndPredicts) {
  const std::string dir = ::testing::TempDir() + "cnnp_resnet";
  const std::string log = dir + ".log";
  std::system(("rm -rf " + dir).c_str());
  run("make-dataset --out " + dir + " --samples 16 --size 32x32 --classes 2 --color-mode rgb --seed 5", log);
  const std::string out = run("train --data " + dir +
                                  " --model resnet50 --freeze-backbone --target-size 32x32 --batch-size 8 "
                                  "--epochs 1 --seed 1 --save " +
                                  dir + "/model.h5",
                              log);
  // 23,587,712 backbone parameters frozen; Dense(2048 -> 2) trains.
  EXPECT_NE(out.find("params: 23591810 total, 4098 trainable, 23587712 non-trainable"), std::string::npos)
      << out;
  const std::string image = dir + "/class_1/00001.png";
  std::string pred = run("predict --model " + dir + "/model.h5 --image " + image + " --json", log);
  auto j = nlohmann::json::parse(pred.substr(pred.find('{')));
  EXPECT_EQ(j.at("image"), image);
  ASSERT_EQ(j.at("output").size(), 2u);
  EXPECT_NEAR(j.at("output")[0].get<double>() + j.at("output")[1].get<double>(), 1.0, 1e-5);
  EXPECT_EQ(j.at("top5").size(), 2u);

  pred = run("predict --model resnet50 --include-top false --pooling avg --target-size 32x32 --image " +
                 image + " --json",
             log);
  j = nlohmann::json::parse(pred.substr(pred.find('{')));
  EXPECT_EQ(j.at("output").size(), 2048u);
  EXPECT_EQ(j.at("top5").size(), 5u);

  const std::string cmd = std::string(CNNP_EXE) + " predict --model resnet50 --include-top false --weights " +
                          test::fixture_path("keras_h5/reduced_resnet.h5") + " --image " + image + " > " +
                          log + " 2>&1";
  EXPECT_NE(std::system(cmd.c_str()), 0);
  const std::string err = test::read_text(log);
  EXPECT_NE(err.find("the model has 106 layers with weights, the file 41"), std::string::npos) << err;
  std::system(("rm -rf " + dir + " " + log).c_str());
}
