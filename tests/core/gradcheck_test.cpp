// Central finite-difference checks of every op's backward, over several
// shapes: odd sizes, every padding/stride combination, batch > 1.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "cnn/autograd.h"
#include "cnn/error.h"
#include "cnn/kernels/isa.h"
#include "cnn/ops.h"
#include "cnn/parallel.h"
#include "cnn/rng.h"
#include "test_util.h"

using namespace cnn;
using test::gradcheck;
using test::random_tensor;

namespace {

constexpr double kTol = 2e-3;  // float32 central differences with eps 1e-2

Tensor param(const Shape& s, uint64_t seed, float scale = 1.0f) {
  Tensor t = random_tensor(s, seed, scale);
  t.set_requires_grad(true);
  return t;
}

// Values spaced at least 0.05 apart (shuffled), so a 1e-2 nudge never
// changes which element is the maximum or crosses relu's kink.
Tensor spaced(const Shape& s, uint64_t seed) {
  Tensor t(s);
  std::vector<int64_t> idx(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
  Rng rng(seed);
  rng.shuffle(idx);
  const int64_t half = static_cast<int64_t>(idx.size()) / 2;
  for (size_t i = 0; i < idx.size(); ++i)
    t[idx[i]] = static_cast<float>(static_cast<int64_t>(i) - half) * 0.05f + 0.025f;
  t.set_requires_grad(true);
  return t;
}

}  // namespace

struct ConvCase {
  Shape x, w;
  int64_t sh, sw, dh, dw;
  ops::Padding padding;
};

TEST(GradCheck, Conv2DAllPaddingsAndStrides) {
  const ConvCase cases[] = {
      {{2, 5, 6, 3}, {3, 3, 3, 2}, 1, 1, 1, 1, ops::Padding::Valid},
      {{2, 5, 6, 3}, {3, 3, 3, 2}, 1, 1, 1, 1, ops::Padding::Same},
      {{2, 7, 6, 2}, {3, 2, 2, 3}, 2, 2, 1, 1, ops::Padding::Valid},
      {{2, 7, 6, 2}, {3, 2, 2, 3}, 2, 3, 1, 1, ops::Padding::Same},
      {{1, 8, 7, 2}, {4, 4, 2, 2}, 3, 2, 1, 1, ops::Padding::Same},
      {{3, 7, 7, 1}, {3, 3, 1, 2}, 1, 1, 2, 2, ops::Padding::Valid},
      {{1, 7, 7, 2}, {3, 3, 2, 2}, 1, 1, 2, 1, ops::Padding::Same},
      {{2, 4, 5, 3}, {1, 1, 3, 4}, 1, 1, 1, 1, ops::Padding::Valid},  // pointwise GEMM path
      {{2, 5, 5, 3}, {1, 1, 3, 2}, 2, 2, 1, 1, ops::Padding::Same},
      // one channel, stride 1: the direct path (and col2im for the input's gradient)
      {{2, 6, 7, 1}, {3, 3, 1, 5}, 1, 1, 1, 1, ops::Padding::Same},
      {{3, 5, 6, 1}, {2, 4, 1, 3}, 1, 1, 1, 1, ops::Padding::Valid},
      // stride 1, even kernels: 'same' pads more at the bottom and right
      {{2, 6, 5, 2}, {2, 4, 2, 3}, 1, 1, 1, 1, ops::Padding::Same},
  };
  int k = 0;
  for (const ConvCase& c : cases) {
    ops::Conv2DOptions o;
    o.stride_h = c.sh, o.stride_w = c.sw, o.dilation_h = c.dh, o.dilation_w = c.dw, o.padding = c.padding;
    // Training (a node recorded, exact sums) and inference give the same
    // values; the dilated-width case lowers its windows with im2col and keeps
    // the columns for backward, the others read them in place both times.
    const Tensor x = param(c.x, 50 + k), w = param(c.w, 60 + k, 0.5f), b = param({c.w[3]}, 70 + k);
    const Tensor lowered = ops::conv2d(x, w, b, o);
    NoGradGuard no_grad;
    EXPECT_LT(test::rel_error(ops::conv2d(x, w, b, o), lowered), 1e-6) << "case " << k++;
  }
  // The same for the SIMD128 kernels' Winograd path (3x3, stride 1, 16+ channels).
  {
    const kernels::Isa isa = kernels::active_isa();
    for (kernels::Isa s : kernels::supported_isas())
      if (s == kernels::Isa::SSE41) kernels::set_isa(s);
    ops::Conv2DOptions o;
    o.padding = ops::Padding::Same;
    const Tensor x = param({2, 7, 6, 16}, 80), w = param({3, 3, 16, 20}, 81, 0.5f), b = param({20}, 82);
    const Tensor lowered = ops::conv2d(x, w, b, o);
    {
      NoGradGuard no_grad;
      EXPECT_LT(test::rel_error(ops::conv2d(x, w, b, o), lowered), 1e-5);
    }
    kernels::set_isa(isa);
  }
  k = 0;
  for (const ConvCase& c : cases) {
    ops::Conv2DOptions o;
    o.stride_h = c.sh, o.stride_w = c.sw, o.dilation_h = c.dh, o.dilation_w = c.dw, o.padding = c.padding;
    double err = gradcheck([&](const std::vector<Tensor>& in) { return ops::conv2d(in[0], in[1], in[2], o); },
                           {param(c.x, 10 + k), param(c.w, 20 + k, 0.5f), param({c.w[3]}, 30 + k)});
    EXPECT_LT(err, kTol) << "case " << k;
    ++k;
  }
  // The fused ReLU against the two ops it replaces (each checked on its own
  // here): the same values, and the same gradients through autograd.
  // Three channels go through im2col, one through the direct kernel. The
  // larger images sum the bias gradient in two blocks of rows, masked a
  // slice at a time on one thread and all at once first on more; their bias
  // gradient is checked against sums in double precision too.
  const int threads_before = num_threads();
  for (int threads : {1, max_threads()})
    for (int64_t channels : {3, 1})
      for (int64_t side : {6, 60}) {
        set_num_threads(threads);
        ops::Conv2DOptions fused;
        fused.padding = ops::Padding::Same;
        fused.relu = true;
        ops::Conv2DOptions plain = fused;
        plain.relu = false;
        const Tensor gy = random_tensor({2, side, side - 1, 4}, 43);
        std::vector<std::vector<float>> grads[2];
        std::vector<float> values[2];
        for (int v = 0; v < 2; ++v) {
          const std::vector<Tensor> in = {param({2, side, side - 1, channels}, 40),
                                          param({3, 3, channels, 4}, 41, 0.5f), param({4}, 42)};
          const Tensor y = v == 0 ? ops::conv2d(in[0], in[1], in[2], fused)
                                  : ops::relu(ops::conv2d(in[0], in[1], in[2], plain));
          values[v] = y.to_vector();
          ops::sum_product(y, gy).backward();
          for (const Tensor& t : in) grads[v].push_back(t.grad().to_vector());
        }
        SCOPED_TRACE(str_cat(threads, " threads, ", channels, " channels, side ", side));
        EXPECT_EQ(values[0], values[1]);
        for (size_t i = 0; i < 3; ++i) EXPECT_EQ(grads[0][i], grads[1][i]) << "input " << i;
        const std::vector<float> g = gy.to_vector();
        for (int64_t o = 0; o < 4; ++o) {
          double want = 0, scale = 0;
          for (size_t k = static_cast<size_t>(o); k < g.size(); k += 4)
            if (values[0][k] > 0.0f) want += g[k], scale += std::abs(g[k]);
          EXPECT_NEAR(grads[0][2][static_cast<size_t>(o)], want, 1e-6 * scale) << "bias " << o;
        }
      }
  set_num_threads(threads_before);
  // Explicit zero padding, asymmetric, and no bias.
  ops::Conv2DOptions o;
  o.padding = ops::Padding::Explicit;
  o.pad_top = 2, o.pad_bottom = 0, o.pad_left = 1, o.pad_right = 3;
  EXPECT_LT(gradcheck([&](const std::vector<Tensor>& in) { return ops::conv2d(in[0], in[1], Tensor(), o); },
                      {param({2, 4, 3, 2}, 1), param({3, 3, 2, 2}, 2)}),
            kTol);
}

// conv2d_inference folds the bias, a batch norm's scale and shift, a
// residual and a ReLU into the product's epilogue on every path that can:
// the same values as the product followed by those steps one by one.
TEST(Conv2DInference, EpilogueOnEveryPathMatchesTheStepsItFolds) {
  struct Case {
    Shape x, w;
    int64_t dw;
    ops::Padding padding;
    bool winograd;  // run on the SIMD128 table, whose 3x3 convs take Winograd
  };
  const Case cases[] = {
      {{2, 5, 6, 8}, {1, 1, 8, 20}, 1, ops::Padding::Valid, false},     // pointwise GEMM
      {{2, 9, 8, 5}, {3, 3, 5, 12}, 1, ops::Padding::Same, false},      // windows in place
      {{2, 9, 8, 5}, {3, 2, 5, 7}, 2, ops::Padding::Same, false},       // im2col (dilated width)
      {{2, 9, 8, 1}, {3, 3, 1, 6}, 1, ops::Padding::Same, false},       // single-channel direct
      {{2, 7, 6, 16}, {3, 3, 16, 20}, 1, ops::Padding::Same, true},     // Winograd
      {{3, 40, 40, 16}, {3, 3, 16, 300}, 1, ops::Padding::Same, false}  // wider than the in-place tiles
  };
  const kernels::Isa isa = kernels::active_isa();
  int k = 0;
  for (const Case& c : cases) {
    if (c.winograd) {
      bool has = false;
      for (kernels::Isa s : kernels::supported_isas()) has |= s == kernels::Isa::SSE41;
      if (!has) continue;
      kernels::set_isa(kernels::Isa::SSE41);
    }
    ops::Conv2DOptions o;
    o.padding = c.padding, o.dilation_w = c.dw;
    const int64_t O = c.w[3];
    const Tensor x = random_tensor(c.x, 100 + k), w = random_tensor(c.w, 101 + k, 0.3f);
    const Tensor b = random_tensor({O}, 102 + k), scale = random_tensor({O}, 103 + k);
    const Tensor shift = random_tensor({O}, 104 + k);
    NoGradGuard no_grad;
    const Tensor product = ops::conv2d(x, w, Tensor(), o);
    const Tensor residual = random_tensor(product.shape(), 105 + k);
    for (int terms = 0; terms < 4; ++terms) {  // bit 0: batch norm and residual; bit 1: relu
      ops::ConvEpilogue ep;
      if (terms & 1) ep.scale = scale, ep.shift = shift, ep.residual = residual;
      ep.relu = (terms & 2) != 0;
      Tensor want = product.clone();
      for (int64_t i = 0; i < want.numel(); ++i) {
        const int64_t f = i % O;
        float v = want[i] + b[f];
        if (terms & 1) v = v * scale[f] + shift[f] + residual[i];
        want[i] = ep.relu ? std::max(v, 0.0f) : v;
      }
      EXPECT_LT(test::rel_error(ops::conv2d_inference(x, w, b, o, ep), want), 1e-5)
          << "case " << k << " terms " << terms;
    }
    kernels::set_isa(isa);
    ++k;
  }
}

// A conv whose window rows are contiguous takes its filter gradient with the
// columns packed straight from the windows (gemm_rows_tn), and a stride-1
// conv its input gradient as the conv of dy by the flipped kernel: check
// both against the sums written out, in double, on a LeNet-sized batch and
// on batches too large for one im2col group, with padding on every side
// (as deep as the kernel allows, and none), a stride, a dilated height, and
// a fused ReLU's mask.
TEST(GradCheck, Conv2DFilterAndInputGradientsMatchTheDirectSums) {
  struct Case {
    int64_t N, H, W, C, KH, KW, O, sh, sw, dh, pt, pb, pl, pr;
    bool relu;
  };
  const Case cases[] = {{3, 14, 14, 6, 5, 5, 16, 1, 1, 1, 0, 0, 0, 0, true},
                        {2, 130, 131, 16, 3, 3, 8, 1, 1, 1, 1, 1, 1, 1, true},
                        {8, 150, 150, 3, 3, 3, 16, 1, 1, 1, 0, 0, 0, 0, false},
                        {5, 121, 97, 24, 3, 2, 5, 2, 1, 2, 2, 0, 1, 3, false},
                        {2, 20, 23, 16, 4, 2, 5, 1, 1, 1, 3, 0, 0, 1, true},
                        {2, 9, 10, 16, 2, 4, 3, 1, 1, 1, 0, 1, 1, 2, false}};
  int k = 0;
  for (const Case& c : cases) {
    ops::Conv2DOptions o;
    o.stride_h = c.sh, o.stride_w = c.sw, o.dilation_h = c.dh, o.relu = c.relu;
    o.padding = ops::Padding::Explicit;
    o.pad_top = c.pt, o.pad_bottom = c.pb, o.pad_left = c.pl, o.pad_right = c.pr;
    const Tensor x = param({c.N, c.H, c.W, c.C}, 90 + k), w = param({c.KH, c.KW, c.C, c.O}, 91 + k, 0.3f);
    const Tensor y = ops::conv2d(x, w, Tensor(), o);
    const int64_t OH = y.shape()[1], OW = y.shape()[2];
    const Tensor gy = random_tensor(y.shape(), 92 + k);
    ops::sum_product(y, gy).backward();
    std::vector<double> want(static_cast<size_t>(c.KH * c.KW * c.C * c.O), 0.0),
        want_dx(static_cast<size_t>(x.numel()), 0.0);
    for (int64_t n = 0; n < c.N; ++n)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow)
          for (int64_t kh = 0; kh < c.KH; ++kh)
            for (int64_t kw = 0; kw < c.KW; ++kw) {
              const int64_t ih = oh * c.sh - c.pt + kh * c.dh, iw = ow * c.sw - c.pl + kw;
              if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
              const float* xp = x.data() + ((n * c.H + ih) * c.W + iw) * c.C;
              const int64_t at = ((n * OH + oh) * OW + ow) * c.O;
              for (int64_t ch = 0; ch < c.C; ++ch)
                for (int64_t f = 0; f < c.O; ++f) {
                  const float g = c.relu && y.data()[at + f] <= 0.0f ? 0.0f : gy.data()[at + f];
                  const size_t wi = static_cast<size_t>(((kh * c.KW + kw) * c.C + ch) * c.O + f);
                  want[wi] += double{xp[ch]} * g;
                  want_dx[static_cast<size_t>(xp - x.data() + ch)] += double{w.data()[wi]} * g;
                }
            }
    Tensor ref(w.shape());
    for (size_t i = 0; i < want.size(); ++i) ref.data()[i] = static_cast<float>(want[i]);
    EXPECT_LT(test::rel_error(w.grad(), ref), 1e-5) << "case " << k;
    Tensor ref_dx(x.shape());
    for (size_t i = 0; i < want_dx.size(); ++i) ref_dx.data()[i] = static_cast<float>(want_dx[i]);
    EXPECT_LT(test::rel_error(x.grad(), ref_dx), 1e-5) << "case " << k << ", input gradient";
    ++k;
  }
}

TEST(GradCheck, Pooling) {
  const ops::Padding pads[] = {ops::Padding::Valid, ops::Padding::Same};
  const int64_t windows[][4] = {{2, 2, 0, 0}, {3, 3, 2, 2}, {3, 2, 1, 2}, {2, 3, 3, 1}};
  for (ops::Padding p : pads)
    for (auto& w : windows) {
      ops::Pool2DOptions o;
      o.pool_h = w[0], o.pool_w = w[1], o.stride_h = w[2], o.stride_w = w[3], o.padding = p;
      SCOPED_TRACE(testing::Message()
                   << ops::padding_name(p) << " " << w[0] << "x" << w[1] << "/" << w[2] << "," << w[3]);
      EXPECT_LT(gradcheck([&](const std::vector<Tensor>& in) { return ops::max_pool2d(in[0], o); },
                          {spaced({2, 7, 6, 3}, 5)}),
                kTol);
      EXPECT_LT(gradcheck([&](const std::vector<Tensor>& in) { return ops::avg_pool2d(in[0], o); },
                          {param({2, 7, 6, 3}, 6)}),
                kTol);
    }
  EXPECT_LT(gradcheck([](const std::vector<Tensor>& in) { return ops::global_avg_pool2d(in[0]); },
                      {param({3, 3, 5, 2}, 7)}),
            kTol);
  EXPECT_LT(gradcheck([](const std::vector<Tensor>& in) { return ops::global_max_pool2d(in[0]); },
                      {spaced({3, 3, 5, 2}, 8)}),
            kTol);
}

// Max pooling against the loops written out: every value, and where each
// output's gradient lands, with many ties (the first maximum in row-major
// window order wins, as in TensorFlow), windows on every edge for 'same',
// and channel counts around the vector width.
TEST(Pooling, MaxPoolMatchesTheLoopsWithTiesOnEveryEdge) {
  const int64_t windows[][4] = {{2, 2, 2, 2}, {3, 3, 2, 2}, {3, 3, 1, 1},
                                {2, 2, 1, 1}, {3, 3, 3, 3}, {2, 3, 1, 2}};
  int k = 0;
  for (ops::Padding pad : {ops::Padding::Valid, ops::Padding::Same})
    for (auto& win : windows)
      for (int64_t C : {1, 3, 16, 37}) {
        const int64_t N = 2, H = 9, W = 11;
        Tensor x = random_tensor({N, H, W, C}, 200 + k);
        for (int64_t i = 0; i < x.numel(); ++i) x[i] = std::round(x[i] * 2.0f);  // a few levels: ties
        x.set_requires_grad(true);
        ops::Pool2DOptions o;
        o.pool_h = win[0], o.pool_w = win[1], o.stride_h = win[2], o.stride_w = win[3], o.padding = pad;
        const Tensor y = ops::max_pool2d(x, o);
        const int64_t OH = y.shape()[1], OW = y.shape()[2];
        // TensorFlow's 'same': the padding split with the smaller half first.
        const int64_t PT =
            pad == ops::Padding::Same ? std::max<int64_t>((OH - 1) * win[2] + win[0] - H, 0) / 2 : 0;
        const int64_t PL =
            pad == ops::Padding::Same ? std::max<int64_t>((OW - 1) * win[3] + win[1] - W, 0) / 2 : 0;
        const Tensor gy = random_tensor(y.shape(), 300 + k);
        ops::sum_product(y, gy).backward();
        std::vector<float> want_y(static_cast<size_t>(y.numel())),
            want_dx(static_cast<size_t>(x.numel()), 0.0f);
        for (int64_t n = 0; n < N; ++n)
          for (int64_t oh = 0; oh < OH; ++oh)
            for (int64_t ow = 0; ow < OW; ++ow)
              for (int64_t c = 0; c < C; ++c) {
                float m = -std::numeric_limits<float>::infinity();
                int64_t at = -1;
                for (int64_t kh = 0; kh < win[0]; ++kh)
                  for (int64_t kw = 0; kw < win[1]; ++kw) {
                    const int64_t ih = oh * win[2] - PT + kh, iw = ow * win[3] - PL + kw;
                    if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                    const int64_t i = ((n * H + ih) * W + iw) * C + c;
                    if (at < 0 || x[i] > m) m = x[i], at = i;
                  }
                const int64_t o = ((n * OH + oh) * OW + ow) * C + c;
                want_y[static_cast<size_t>(o)] = m;
                want_dx[static_cast<size_t>(at)] += gy[o];
              }
        const std::string what =
            str_cat(ops::padding_name(pad), " ", win[0], "x", win[1], "/", win[2], ",", win[3], " C ", C);
        EXPECT_EQ(y.to_vector(), want_y) << what;
        EXPECT_EQ(x.grad().to_vector(), want_dx) << what;
        ++k;
      }
}

TEST(GradCheck, DenseAndShapes) {
  EXPECT_LT(gradcheck([](const std::vector<Tensor>& in) { return ops::dense(in[0], in[1], in[2]); },
                      {param({5, 7}, 1), param({7, 3}, 2), param({3}, 3)}),
            kTol);
  EXPECT_LT(gradcheck([](const std::vector<Tensor>& in) { return ops::dense(in[0], in[1], in[2]); },
                      {param({2, 3, 4}, 1), param({4, 2}, 2), param({2}, 3)}),
            kTol);
  EXPECT_LT(
      gradcheck([](const std::vector<Tensor>& in) { return ops::flatten(in[0]); }, {param({2, 3, 2, 2}, 4)}),
      kTol);
  EXPECT_LT(gradcheck(
                [](const std::vector<Tensor>& in) {
                  return ops::reshape(in[0], {4, -1});
                },
                {param({2, 3, 2, 2}, 4)}),
            kTol);
  EXPECT_LT(gradcheck([](const std::vector<Tensor>& in) { return ops::zero_padding2d(in[0], 1, 2, 0, 3); },
                      {param({2, 3, 4, 2}, 5)}),
            kTol);
  EXPECT_LT(gradcheck([](const std::vector<Tensor>& in) { return ops::add(in[0], in[1]); },
                      {param({2, 3, 3, 2}, 6), param({2, 3, 3, 2}, 7)}),
            kTol);
  EXPECT_LT(gradcheck(
                [](const std::vector<Tensor>& in) {
                  return ops::concat({in[0], in[1], in[2]}, -1);
                },
                {param({2, 3, 3, 2}, 6), param({2, 3, 3, 1}, 7), param({2, 3, 3, 3}, 8)}),
            kTol);
  EXPECT_LT(gradcheck(
                [](const std::vector<Tensor>& in) {
                  return ops::concat({in[0], in[1]}, 1);
                },
                {param({2, 3, 2}, 6), param({2, 1, 2}, 7)}),
            kTol);
  EXPECT_LT(gradcheck([](const std::vector<Tensor>& in) { return ops::scale_shift(in[0], 1.0f / 255, 0.5f); },
                      {param({2, 3}, 9)}),
            kTol);
}

TEST(GradCheck, Activations) {
  EXPECT_LT(gradcheck([](const std::vector<Tensor>& in) { return ops::relu(in[0]); }, {spaced({3, 7}, 1)}),
            kTol);
  EXPECT_LT(
      gradcheck([](const std::vector<Tensor>& in) { return ops::sigmoid(in[0]); }, {param({3, 7}, 2, 3.0f)}),
      kTol);
  EXPECT_LT(gradcheck([](const std::vector<Tensor>& in) { return ops::tanh(in[0]); }, {param({3, 7}, 3)}),
            kTol);
  EXPECT_LT(
      gradcheck([](const std::vector<Tensor>& in) { return ops::softmax(in[0]); }, {param({4, 6}, 4, 2.0f)}),
      kTol);
  EXPECT_LT(
      gradcheck([](const std::vector<Tensor>& in) { return ops::softmax(in[0]); }, {param({2, 2, 3, 5}, 5)}),
      kTol);
}

TEST(GradCheck, BatchNorm) {
  for (bool training : {true, false})
    for (const Shape& s : {Shape{4, 3, 3, 2}, Shape{5, 3}, Shape{2, 1, 3, 4}}) {
      SCOPED_TRACE(testing::Message() << "training=" << training << " " << shape_str(s));
      const int64_t c = s.back();
      Tensor mm = random_tensor({c}, 1, 0.1f), mv(Shape{c}, 1.5f);
      ops::BatchNormOptions o;
      o.training = training;
      o.epsilon = 1e-3f;
      EXPECT_LT(gradcheck(
                    [&](const std::vector<Tensor>& in) {
                      Tensor m = mm.clone(), v = mv.clone();  // moving stats untouched by the check
                      return ops::batch_norm(in[0], in[1], in[2], m, v, o);
                    },
                    {param(s, 2), param({c}, 3), param({c}, 4)}),
                kTol);
    }
}

TEST(GradCheck, Dropout) {
  // The mask is a function of the seed, so re-seeding makes f deterministic.
  EXPECT_LT(gradcheck(
                [](const std::vector<Tensor>& in) {
                  Rng rng(42);
                  return ops::dropout(in[0], 0.3f, true, rng);
                },
                {param({4, 9}, 1)}),
            kTol);
}

TEST(GradCheck, Losses) {
  Tensor labels({4}, std::vector<float>{2, 0, 4, 1});
  Tensor onehot({4, 5});
  for (int i = 0; i < 4; ++i) onehot[i * 5 + static_cast<int>(labels[i])] = 1.0f;
  Tensor soft = ops::softmax(random_tensor({4, 5}, 9));
  for (bool logits : {true, false}) {
    SCOPED_TRACE(logits ? "from logits" : "from probabilities");
    auto probs = [&](const Tensor& z) { return logits ? z : ops::softmax(z); };
    EXPECT_LT(gradcheck(
                  [&](const std::vector<Tensor>& in) {
                    return ops::sparse_categorical_crossentropy(probs(in[0]), labels, logits);
                  },
                  {param({4, 5}, 1)}),
              kTol);
    EXPECT_LT(gradcheck(
                  [&](const std::vector<Tensor>& in) {
                    return ops::categorical_crossentropy(probs(in[0]), soft, logits);
                  },
                  {param({4, 5}, 2)}),
              kTol);
    Tensor t({4, 3}, std::vector<float>{1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 1});
    EXPECT_LT(gradcheck(
                  [&](const std::vector<Tensor>& in) {
                    return ops::binary_crossentropy(logits ? in[0] : ops::sigmoid(in[0]), t, logits);
                  },
                  {param({4, 3}, 3)}),
              kTol);
  }
  // Unnormalised probabilities: Keras rescales them to sum to one first.
  Tensor p({2, 3}, std::vector<float>{0.2f, 0.5f, 0.6f, 0.1f, 0.3f, 0.4f});
  p.set_requires_grad(true);
  EXPECT_LT(gradcheck(
                [&](const std::vector<Tensor>& in) {
                  return ops::categorical_crossentropy(
                      in[0], Tensor({2, 3}, std::vector<float>{0, 1, 0, .5f, .5f, 0}), false);
                },
                {p}, 1e-3),
            kTol);
  EXPECT_LT(gradcheck(
                [](const std::vector<Tensor>& in) {
                  return ops::mean_squared_error(in[0], random_tensor({3, 4}, 5));
                },
                {param({3, 4}, 4)}),
            kTol);
}

// Ops whose backward covers every element of x's gradient write a fresh
// buffer (made without a zero fill) and add to an existing one. Each op runs
// twice: x's gradient made by the op, and x's gradient already holding 0.5.
// An element the fresh run leaves unwritten differs from the other run's
// unless its gradient is 0 (relu's negatives, rows no pooling window
// reaches), so before that run buffers of the gradient's size are filled
// with NaN and freed: glibc's aligned_alloc hands such memory back from its
// bins (3 KiB and more; smaller blocks came back unused and zero), and the
// ASan build fills new memory with garbage.
TEST(Backward, WritesAFreshGradientAndAddsToAnExistingOne) {
  using OpFn = std::function<Tensor(const Tensor&)>;
  const Tensor w3 = random_tensor({1, 1, 5, 4}, 1), b4 = random_tensor({4}, 2);
  const Tensor wd = random_tensor({20, 3}, 3), bd = random_tensor({3}, 4);
  const Tensor gamma = random_tensor({5}, 5), beta = random_tensor({5}, 6);
  struct Case {
    const char* name;
    Shape x;
    OpFn f;
  };
  std::vector<Case> cases{
      {"relu", {2, 11, 7, 5}, [](const Tensor& x) { return ops::relu(x); }},
      {"dense", {40, 20}, [&](const Tensor& x) { return ops::dense(x, wd, bd); }},
      {"conv 1x1", {2, 11, 7, 5}, [&](const Tensor& x) { return ops::conv2d(x, w3, b4); }},
      {"batch norm", {2, 11, 7, 5}, [&](const Tensor& x) {
         Tensor m = Tensor::zeros({5}), v(Shape{5}, 1.0f);
         ops::BatchNormOptions o;
         o.training = true;
         return ops::batch_norm(x, gamma, beta, m, v, o);
       }}};
  // Windows that overlap, skip rows (stride > pool), and pad ('same').
  const int64_t windows[][4] = {{2, 2, 2, 2}, {3, 3, 2, 2}, {2, 3, 3, 1}, {2, 2, 4, 3}};
  for (const auto& wd4 : windows)
    for (ops::Padding p : {ops::Padding::Valid, ops::Padding::Same}) {
      ops::Pool2DOptions o;
      o.pool_h = wd4[0], o.pool_w = wd4[1], o.stride_h = wd4[2], o.stride_w = wd4[3], o.padding = p;
      cases.push_back({"avg pool", {2, 11, 7, 5}, [o](const Tensor& x) { return ops::avg_pool2d(x, o); }});
      cases.push_back({"max pool", {2, 11, 7, 5}, [o](const Tensor& x) { return ops::max_pool2d(x, o); }});
    }
  // A stride-1 conv on 16 channels or more takes its input gradient as a
  // conv of dy (written, or added through a scratch); on fewer, and a
  // strided one, through col2im, an image at a time, the larger images
  // lowered in three groups (a bounded im2col buffer).
  const Tensor w33 = random_tensor({3, 3, 5, 4}, 9), w33_16 = random_tensor({3, 3, 16, 4}, 11),
               w33_wide = random_tensor({3, 3, 64, 2}, 10), w33_8 = random_tensor({3, 3, 8, 2}, 12);
  ops::Conv2DOptions strided;
  strided.stride_h = strided.stride_w = 2;
  ops::Conv2DOptions same_relu;
  same_relu.padding = ops::Padding::Same;
  same_relu.relu = true;
  cases.push_back({"conv 3x3", {2, 24, 22, 16}, [&](const Tensor& x) { return ops::conv2d(x, w33_16, b4); }});
  cases.push_back({"conv 3x3 same relu", {2, 12, 11, 16}, [&](const Tensor& x) {
                     return ops::conv2d(x, w33_16, b4, same_relu);
                   }});
  cases.push_back(
      {"conv 3x3, 5 channels", {2, 11, 7, 5}, [&](const Tensor& x) { return ops::conv2d(x, w33, b4); }});
  cases.push_back({"conv 3x3 strided, in groups", {3, 130, 130, 64}, [&](const Tensor& x) {
                     return ops::conv2d(x, w33_wide, Tensor(), strided);
                   }});
  cases.push_back({"conv 3x3, 8 channels, in groups", {3, 172, 172, 8}, [&](const Tensor& x) {
                     return ops::conv2d(x, w33_8, Tensor());
                   }});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Tensor x0 = random_tensor(c.x, 7);
    {
      std::vector<Tensor> poison;
      for (int i = 0; i < 8; ++i) poison.emplace_back(c.x, std::numeric_limits<float>::quiet_NaN());
    }
    Tensor fresh = x0.clone();
    fresh.set_requires_grad(true);
    Tensor y = c.f(fresh);
    const Tensor gy = random_tensor(y.shape(), 8);
    test::backward_with(y, gy);
    Tensor added = x0.clone();
    added.set_requires_grad(true);
    added.grad().fill(0.5f);
    test::backward_with(c.f(added), gy);
    const std::vector<float> g1 = fresh.grad().to_vector(), g2 = added.grad().to_vector();
    for (size_t i = 0; i < g1.size(); ++i) {
      ASSERT_FALSE(std::isnan(g1[i])) << "element " << i << " left unwritten";
      ASSERT_NEAR(g2[i], g1[i] + 0.5f, 1e-5f) << "element " << i;
    }
  }
}
