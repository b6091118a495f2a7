// Private: the CPU backend's ops, declared with exactly the types of their
// public counterparts in cnn/ops.h (which dispatch to them by device).
#pragma once

#include "backend/backend.h"

namespace cnn::ops::cpu {
CNN_BACKEND_OPS(CNN_BACKEND_DECLARE_OP)
}  // namespace cnn::ops::cpu
