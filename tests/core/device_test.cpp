// Devices without a GPU: names, the refusal of an unavailable device with
// its reason, and host reads of device tensors refused rather than misread.
// (The CUDA backend's own results are checked in tests/cuda/.)
#include "cnn/device.h"

#include <gtest/gtest.h>

#include "cnn/error.h"
#include "cnn/nn/presets.h"
#include "cnn/ops.h"
#include "cnn/tensor.h"
#include "test_util.h"

using namespace cnn;
using cnn::test::error_of;

TEST(Device, NamesParseAndRefuseUnknown) {
  EXPECT_EQ(parse_device("cpu"), Device::CPU);
  EXPECT_EQ(parse_device("cuda"), Device::CUDA);
  EXPECT_EQ(parse_device("gpu"), Device::CUDA);
  EXPECT_STREQ(device_name(Device::CUDA), "cuda");
  const std::string msg = error_of<ValueError>([] { parse_device("tpu"); });
  EXPECT_NE(msg.find("'tpu'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cpu or cuda"), std::string::npos) << msg;
}

TEST(Device, CpuIsAlwaysThere) {
  EXPECT_TRUE(device_available(Device::CPU));
  Tensor t({2, 3}, 1.5f);
  EXPECT_EQ(t.device(), Device::CPU);
  EXPECT_TRUE(t.to(Device::CPU).same_as(t));  // no copy when already there
  EXPECT_EQ(t.to_vector(), std::vector<float>(6, 1.5f));
}

TEST(Device, UnavailableCudaIsRefusedWithItsReason) {
  if (device_available(Device::CUDA))
    GTEST_SKIP() << "a GPU is present: " << device_description(Device::CUDA);
  const std::string why = device_description(Device::CUDA);
  EXPECT_NE(why.find("cuda is not available: "), std::string::npos) << why;
  const std::string msg = error_of<DeviceError>([] { Tensor({4}, 1.0f).to(Device::CUDA); });
  EXPECT_EQ(msg, why);

  // A model stays usable on the CPU after a refused move.
  auto m = nn::lenet({28, 28, 1}, 3);
  EXPECT_THROW(m->to(Device::CUDA), DeviceError);
  EXPECT_EQ(m->device(), Device::CPU);
  const Tensor y = m->predict(Tensor({1, 28, 28, 1}, 0.5f));
  EXPECT_EQ(y.shape(), (Shape{1, 3}));
}

TEST(Device, ModelToCpuKeepsWeightsAndPredictions) {
  auto m = nn::lenet({28, 28, 1}, 3);
  const Tensor x({2, 28, 28, 1}, 0.25f);
  const std::vector<float> before = m->predict(x).to_vector();
  m->to(Device::CPU);
  EXPECT_EQ(m->predict(x).to_vector(), before);
}
