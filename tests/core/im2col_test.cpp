// im2col and col2im_add against the definition, tap by tap: window rows of
// 32 and 33 floats (the last fixed-length instance and the first that is
// not), one and many channels, padding that leaves whole windows outside the
// image, strides, and dilation along both axes.
#include "cnn/kernels/im2col.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "test_util.h"

using namespace cnn;
using cnn::test::random_tensor;

namespace {

struct LoweringCase {
  int64_t KH, KW, C, SH, SW, DH, DW, PT, PB, PL, PR;
};

std::string describe(const LoweringCase& c) {
  return "kernel " + std::to_string(c.KH) + "x" + std::to_string(c.KW) + "x" + std::to_string(c.C) +
         " stride " + std::to_string(c.SH) + "," + std::to_string(c.SW) + " dilation " +
         std::to_string(c.DH) + "," + std::to_string(c.DW) + " padding " + std::to_string(c.PT) + "," +
         std::to_string(c.PB) + "," + std::to_string(c.PL) + "," + std::to_string(c.PR);
}

// The input (H, W, C) pixel tap (kh, kw) of output (oh, ow) reads, or -1 in
// the padding.
int64_t tap_index(const kernels::ConvGeometry& g, int64_t oh, int64_t ow, int64_t kh, int64_t kw) {
  const int64_t ih = oh * g.SH + kh * g.DH - g.PT, iw = ow * g.SW + kw * g.DW - g.PL;
  return ih < 0 || ih >= g.H || iw < 0 || iw >= g.W ? -1 : ih * g.W + iw;
}

}  // namespace

TEST(Im2col, MatchesTheDefinitionAndCol2imAddsEveryTapBack) {
  constexpr int64_t H = 6, W = 7;
  int cases = 0;
  for (const auto& [KW, C] : std::vector<std::pair<int64_t, int64_t>>{
           {2, 16}, {4, 8}, {3, 11}, {5, 1}, {3, 3}, {1, 1}})  // K_W * C: 32, 32, 33, 5, 9, 1
    for (const int64_t KH : {1, 3})
      for (const auto& [PL, PR] : std::vector<std::pair<int64_t, int64_t>>{{0, 0}, {1, KW + 2}, {KW + 2, 1}})
        for (const auto& [PT, PB] : std::vector<std::pair<int64_t, int64_t>>{{0, 0}, {2, 1}})
          for (const int64_t SW : {1, 2})
            for (const int64_t DH : {1, 2})
              for (const int64_t DW : {1, 2}) {
                const LoweringCase c{KH, KW, C, SW, SW, DH, DW, PT, PB, PL, PR};
                const int64_t OH = (H + PT + PB - DH * (KH - 1) - 1) / c.SH + 1;
                const int64_t OW = (W + PL + PR - DW * (KW - 1) - 1) / SW + 1;
                if (H + PT + PB - DH * (KH - 1) < 1 || W + PL + PR - DW * (KW - 1) < 1) continue;
                const kernels::ConvGeometry g{H, W, C, KH, KW, OH, OW, c.SH, SW, DH, DW, PT, PL};
                SCOPED_TRACE(describe(c));
                ++cases;
                const int64_t L = KH * KW * C, seed = cases;
                const Tensor x = random_tensor({H, W, C}, static_cast<uint64_t>(seed));

                std::vector<float> col(static_cast<size_t>(OH * OW * L), 99.0f);  // every value overwritten
                kernels::im2col(g, x.data(), col.data());
                std::vector<float> expected(col.size());
                for (int64_t oh = 0; oh < OH; ++oh)
                  for (int64_t ow = 0; ow < OW; ++ow)
                    for (int64_t kh = 0; kh < KH; ++kh)
                      for (int64_t kw = 0; kw < KW; ++kw) {
                        const int64_t at = tap_index(g, oh, ow, kh, kw);
                        for (int64_t ch = 0; ch < C; ++ch)
                          expected[static_cast<size_t>((oh * OW + ow) * L + (kh * KW + kw) * C + ch)] =
                              at < 0 ? 0.0f : x.data()[at * C + ch];
                      }
                ASSERT_EQ(col, expected);

                // col2im adds onto what the image holds: each tap's value into
                // the pixel it came from, the padding's dropped.
                const Tensor dcol = random_tensor({OH * OW * L}, static_cast<uint64_t>(seed + 1000));
                const Tensor base = random_tensor({H, W, C}, static_cast<uint64_t>(seed + 2000));
                std::vector<float> image(base.data(), base.data() + H * W * C);
                kernels::col2im_add(g, dcol.data(), image.data());
                std::vector<double> sums(base.data(), base.data() + H * W * C);
                for (int64_t oh = 0; oh < OH; ++oh)
                  for (int64_t ow = 0; ow < OW; ++ow)
                    for (int64_t kh = 0; kh < KH; ++kh)
                      for (int64_t kw = 0; kw < KW; ++kw) {
                        const int64_t at = tap_index(g, oh, ow, kh, kw);
                        if (at < 0) continue;
                        for (int64_t ch = 0; ch < C; ++ch)
                          sums[static_cast<size_t>(at * C + ch)] +=
                              dcol.data()[(oh * OW + ow) * L + (kh * KW + kw) * C + ch];
                      }
                for (size_t i = 0; i < image.size(); ++i) ASSERT_NEAR(image[i], sums[i], 1e-5) << "at " << i;
              }
  EXPECT_GT(cases, 500);  // the grid was not emptied by the size filter
}
