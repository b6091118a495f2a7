// Private: the CPU backend's ops, declared with exactly the types of their
// public counterparts in cnn/ops.h (which dispatch to them by device).
#pragma once

#include "cnn/ops.h"

namespace cnn::ops::cpu {

#define CNN_CPU_OP(name) decltype(::cnn::ops::name) name;
CNN_CPU_OP(conv2d)
CNN_CPU_OP(conv2d_inference)
CNN_CPU_OP(max_pool2d)
CNN_CPU_OP(avg_pool2d)
CNN_CPU_OP(global_avg_pool2d)
CNN_CPU_OP(global_max_pool2d)
CNN_CPU_OP(dense)
CNN_CPU_OP(zero_padding2d)
CNN_CPU_OP(add)
CNN_CPU_OP(concat)
CNN_CPU_OP(sum_product)
CNN_CPU_OP(scale_shift)
CNN_CPU_OP(relu)
CNN_CPU_OP(sigmoid)
CNN_CPU_OP(tanh)
CNN_CPU_OP(softmax)
CNN_CPU_OP(batch_norm)
CNN_CPU_OP(batch_norm_affine)
CNN_CPU_OP(dropout)
CNN_CPU_OP(sparse_categorical_crossentropy)
CNN_CPU_OP(categorical_crossentropy)
CNN_CPU_OP(binary_crossentropy)
CNN_CPU_OP(mean_squared_error)
CNN_CPU_OP(sparse_categorical_accuracy)
CNN_CPU_OP(categorical_accuracy)
CNN_CPU_OP(binary_accuracy)
#undef CNN_CPU_OP

}  // namespace cnn::ops::cpu
