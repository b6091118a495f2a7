#include <gtest/gtest.h>

#include <cstdint>

#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/kernels/gemm.h"
#include "cnn/ops.h"
#include "cnn/rng.h"
#include "test_util.h"

using namespace cnn;

TEST(Tensor, StorageIsAlignedAndZeroed) {
  Tensor t({3, 5, 7});
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % 64, 0u);
  EXPECT_EQ(t.numel(), 105);
  EXPECT_EQ(t.strides(), (Shape{35, 7, 1}));
  for (int64_t i = 0; i < t.numel(); ++i) EXPECT_EQ(t[i], 0.0f);
}

TEST(Tensor, ViewSharesStorage) {
  Tensor t({2, 3, 4}, 1.0f);
  Tensor v = t.view({2, -1});
  EXPECT_EQ(v.shape(), (Shape{2, 12}));
  v[5] = 42.0f;
  EXPECT_EQ(t[5], 42.0f);
  EXPECT_EQ(v.data(), t.data());
}

TEST(Tensor, BadReshapeNamesShapes) {
  Tensor t({2, 3});
  try {
    t.view({4, 2});
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("(2, 3)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("(4, 2)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(t.view({-1, -1}), ShapeError);
  EXPECT_THROW(Tensor({2, 2}, std::vector<float>{1, 2, 3}), ShapeError);
}

TEST(Tensor, ShapeStrIsKerasStyle) {
  EXPECT_EQ(shape_str({-1, 28, 28, 1}), "(None, 28, 28, 1)");
  EXPECT_EQ(shape_str({5}), "(5,)");
}

TEST(Autograd, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x({3}, std::vector<float>{1, -2, 3});
  x.set_requires_grad(true);
  for (int k = 0; k < 2; ++k) {
    Tensor loss = ops::mean_squared_error(x, Tensor({3}));  // mean(x^2): d = 2x/3
    loss.backward();
  }
  EXPECT_NEAR(x.grad()[0], 2 * 2.0f / 3, 1e-6);
  EXPECT_NEAR(x.grad()[1], 2 * -4.0f / 3, 1e-6);
  x.zero_grad();
  EXPECT_EQ(x.grad()[2], 0.0f);
}

TEST(Autograd, SharedSubexpressionGetsBothPaths) {
  Tensor x({2}, std::vector<float>{0.5f, 2.0f});
  x.set_requires_grad(true);
  Tensor y = ops::add(ops::relu(x), ops::relu(x));        // 2 relu(x)
  Tensor loss = ops::mean_squared_error(y, Tensor({2}));  // mean(4x^2) -> 4x
  loss.backward();
  EXPECT_NEAR(x.grad()[0], 2.0f, 1e-6);
  EXPECT_NEAR(x.grad()[1], 8.0f, 1e-6);
}

TEST(Autograd, NoGradRecordsNothing) {
  Tensor x = test::random_tensor({2, 4, 4, 3}, 1);
  x.set_requires_grad(true);
  Tensor w = test::random_tensor({3, 3, 3, 2}, 2);
  Tensor y;
  {
    NoGradGuard guard;
    EXPECT_FALSE(grad_enabled());
    y = ops::relu(ops::conv2d(x, w, Tensor()));
  }
  EXPECT_TRUE(grad_enabled());
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.impl()->grad_fn, nullptr);  // no node, so no activation kept
}

TEST(Autograd, FrozenInputsRecordNothing) {
  Tensor x = test::random_tensor({1, 4, 4, 1}, 1);  // data: no grad
  Tensor w = test::random_tensor({3, 3, 1, 1}, 2);  // frozen: no grad
  Tensor y = ops::conv2d(x, w, Tensor());
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.impl()->grad_fn, nullptr);
}

TEST(Autograd, BackwardNeedsScalar) {
  Tensor x({2}, 1.0f);
  x.set_requires_grad(true);
  EXPECT_THROW(ops::relu(x).backward(), ShapeError);
}

