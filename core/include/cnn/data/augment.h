// Training-time augmentation, ImageDataGenerator-style. Geometric transforms
// follow Keras's random_transform: one affine map (rotation, shift, shear,
// zoom about the image centre) sampled bilinearly with Keras's fill modes,
// then flips and brightness. The course's extra photometric changes
// (contrast, blur, sharpening, noise) follow. Every draw comes from the Rng
// passed in, so a seed reproduces a run.
//
// The axes are those Keras documents, and keras-preprocessing 1.1 applied:
// width_shift_range moves images sideways, height_shift_range up and down,
// and shear slants the columns. Keras since TF 2.11 swaps the two shifts
// (keras-team/keras#17398) and shears the rows; that is taken for a bug of
// Keras here, not followed. A whole-pixel shift range n is drawn uniformly in
// [-n, n] (Keras draws whole pixels, fewer than n either way).
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "cnn/rng.h"

namespace cnn::data {

enum class FillMode { Nearest, Constant, Reflect, Wrap };
FillMode parse_fill_mode(const std::string& s);

struct AugmentOptions {
  bool horizontal_flip = false;
  bool vertical_flip = false;
  bool rotate90 = false;        // a random multiple of 90 degrees (180 on non-square images)
  float rotation_range = 0;     // degrees, uniform in [-r, r]
  float width_shift_range = 0;  // fraction of the width (< 1) or pixels (>= 1)
  float height_shift_range = 0;
  std::array<float, 2> zoom_range{1.0f, 1.0f};  // per-axis scale drawn in [lo, hi]
  float shear_range = 0;                        // degrees
  std::array<float, 2> brightness_range{0, 0};  // factor range; {0, 0} is off
  std::array<float, 2> contrast_range{0, 0};    // factor range; {0, 0} is off
  float blur_sigma = 0;                         // Gaussian blur, sigma drawn in [0, blur_sigma]
  float sharpen = 0;                            // unsharp-mask amount drawn in [0, sharpen]
  float noise_stddev = 0;                       // Gaussian noise, in pixel units (0..255)
  FillMode fill_mode = FillMode::Nearest;
  float cval = 0;
  // Each augmentation is applied with this probability, unless it has its
  // own in `probabilities` (keyed by option name, e.g. "rotation_range")...
  float probability = 1.0f;
  std::map<std::string, float> probabilities;
  // ...and this fraction of images is left untouched altogether.
  float untouched_fraction = 0.0f;

  bool any() const;
  // "horizontal_flip,rotation_range=15@0.5,zoom_range=0.8:1.2,..." (the CLI's --augment);
  // "@p" after an option gives it its own probability p.
  static AugmentOptions parse(const std::string& spec);
};

// Augments one image in place: pixels (h, w, c) as floats in 0..255.
void augment_image(std::vector<float>& pixels, int64_t h, int64_t w, int64_t c, const AugmentOptions& opt,
                   Rng& rng);

}  // namespace cnn::data
