#include "cnn/data/synthetic.h"

#include <algorithm>
#include <vector>

#include "cnn/error.h"
#include "cnn/rng.h"

namespace cnn::data {

SyntheticTask make_synthetic_task(const SyntheticOptions& o) {
  if (o.samples < 1 || o.height < 4 || o.width < 4 || o.channels < 1 || o.classes < 2)
    throw ValueError(
        "make_synthetic_task: needs samples >= 1, height and width >= 4, channels >= 1, classes >= 2");
  // Templates cover two thirds of the image on each axis and are shifted by
  // up to the remaining third, so the task needs translation-tolerant features.
  const int64_t th = (o.height * 2 + 2) / 3, tw = (o.width * 2 + 2) / 3;
  Rng trng(o.seed * 2654435761ull + 99);
  std::vector<std::vector<float>> templates(static_cast<size_t>(o.classes));
  for (auto& t : templates) {
    t.assign(static_cast<size_t>(th * tw * o.channels), 0.0f);
    // A few random strokes: lines between random points, per channel.
    for (int stroke = 0; stroke < 3; ++stroke) {
      const float r0 = trng.uniform(0, th - 1), c0 = trng.uniform(0, tw - 1);
      const float r1 = trng.uniform(0, th - 1), c1 = trng.uniform(0, tw - 1);
      const int64_t ch = o.channels > 1 ? trng.below(static_cast<uint32_t>(o.channels)) : 0;
      for (int s = 0; s <= 32; ++s) {
        const float a = s / 32.0f;
        const int64_t rc = static_cast<int64_t>(r0 + a * (r1 - r0) + 0.5f);
        const int64_t cc = static_cast<int64_t>(c0 + a * (c1 - c0) + 0.5f);
        // Strokes two pixels thick, so they survive 2x pooling.
        for (int64_t r = rc; r < std::min(rc + 2, th); ++r)
          for (int64_t c = cc; c < std::min(cc + 2, tw); ++c) {
            float* px = &t[static_cast<size_t>((r * tw + c) * o.channels)];
            px[ch] = 1.0f;
            // A fainter trace in every channel keeps shapes visible in grey.
            for (int64_t k = 0; k < o.channels; ++k) px[k] = std::max(px[k], 0.5f);
          }
      }
    }
  }
  SyntheticTask task{Tensor({o.samples, o.height, o.width, o.channels}), Tensor({o.samples})};
  Rng rng(o.seed * 0x9E3779B97F4A7C15ull + 7);
  const int64_t plane = o.height * o.width * o.channels;
  for (int64_t n = 0; n < o.samples; ++n) {
    const int64_t cls = rng.below(static_cast<uint32_t>(o.classes));
    task.y[n] = static_cast<float>(cls);
    const int64_t dr = rng.below(static_cast<uint32_t>(o.height - th + 1));
    const int64_t dc = rng.below(static_cast<uint32_t>(o.width - tw + 1));
    const float contrast = rng.uniform(0.6f, 1.0f);
    float* img = task.x.data() + n * plane;
    for (int64_t i = 0; i < plane; ++i) img[i] = 0.1f + o.noise * rng.normal();
    const std::vector<float>& t = templates[static_cast<size_t>(cls)];
    for (int64_t r = 0; r < th; ++r)
      for (int64_t c = 0; c < tw; ++c)
        for (int64_t k = 0; k < o.channels; ++k)
          img[((r + dr) * o.width + c + dc) * o.channels + k] +=
              contrast * t[static_cast<size_t>((r * tw + c) * o.channels + k)];
    for (int64_t i = 0; i < plane; ++i) img[i] = std::min(1.0f, std::max(0.0f, img[i]));
  }
  return task;
}

}  // namespace cnn::data
