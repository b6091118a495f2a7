// Output sizes and padding shared by conv and pooling: the one place where
// W' = (W - K + 2P) / S + 1 (with dilation) and TensorFlow's 'same' rule live.
#include "cnn/error.h"
#include "cnn/ops.h"

namespace cnn::ops {

Padding parse_padding(const std::string& s, const char* who) {
  if (s == "valid") return Padding::Valid;
  if (s == "same") return Padding::Same;
  throw ValueError(str_cat(who, ": padding '", s, "' is not supported, expected 'valid' or 'same'"));
}

const char* padding_name(Padding p) {
  switch (p) {
    case Padding::Valid:
      return "valid";
    case Padding::Same:
      return "same";
    default:
      return "explicit";
  }
}

AxisGeometry axis_geometry(const char* op, const char* axis, int64_t in, int64_t k, int64_t stride,
                           int64_t dilation, Padding padding, int64_t explicit_before,
                           int64_t explicit_after) {
  if (k < 1 || stride < 1 || dilation < 1)
    throw ValueError(str_cat(op, ": ", axis, " kernel size ", k, ", stride ", stride, " and dilation ",
                             dilation, " must all be >= 1"));
  const int64_t eff_k = dilation * (k - 1) + 1;
  AxisGeometry g{};
  if (padding == Padding::Same) {
    g.out = (in + stride - 1) / stride;
    int64_t total = (g.out - 1) * stride + eff_k - in;
    if (total < 0) total = 0;
    g.pad_before = total / 2;
    g.pad_after = total - g.pad_before;
    return g;
  }
  if (padding == Padding::Explicit) {
    if (explicit_before < 0 || explicit_after < 0)
      throw ValueError(str_cat(op, ": negative ", axis, " padding"));
    g.pad_before = explicit_before;
    g.pad_after = explicit_after;
  }
  const int64_t span = in + g.pad_before + g.pad_after;
  if (span < eff_k)
    throw ShapeError(str_cat(op, ": the ", axis, " window (", eff_k, ") is larger than the input ", axis,
                             " (", span, ") with '", padding_name(padding), "' padding; expected input ",
                             axis, " >= ", eff_k));
  g.out = (span - eff_k) / stride + 1;
  return g;
}

}  // namespace cnn::ops
