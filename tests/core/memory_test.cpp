// The memory budget: tensors beyond it are refused in words, a model or
// batch that cannot train within it is refused before the first step, and
// the engine goes on working after either.
#include "cnn/memory.h"

#include <gtest/gtest.h>

#include "cnn/data/synthetic.h"
#include "cnn/nn/presets.h"
#include "cnn/nn/resnet50.h"
#include "cnn/optim/optimizer.h"
#include "cnn/tensor.h"
#include "cnn/train/memory_estimate.h"
#include "test_util.h"

namespace cnn {
namespace {

// Sets a budget for one test and always takes it away again.
struct BudgetScope {
  explicit BudgetScope(size_t bytes) { set_memory_budget(bytes); }
  ~BudgetScope() { set_memory_budget(0); }
};

std::string error_of(const std::function<void()>& f) { return test::error_of<ResourceError>(f); }

TEST(Memory, TensorsCountAgainstTheBudgetAndAreRefusedBeyondIt) {
  const size_t before = tensor_bytes_in_use();
  {
    Tensor t({1024, 256});  // 1 MiB
    EXPECT_EQ(tensor_bytes_in_use(), before + (size_t{1} << 20));
    EXPECT_GE(peak_tensor_bytes(), before + (size_t{1} << 20));
  }
  EXPECT_EQ(tensor_bytes_in_use(), before);

  BudgetScope scope(before + (size_t{8} << 20));
  const std::string e = error_of([] { Tensor big({4096, 4096}); });  // 64 MiB
  EXPECT_NE(e.find("out of memory budget"), std::string::npos) << e;
  EXPECT_NE(e.find("64.0 MiB"), std::string::npos) << e;
  EXPECT_EQ(tensor_bytes_in_use(), before);  // nothing leaked by the refusal
  Tensor fine({256, 256});                   // and the engine goes on
  EXPECT_EQ(fine.numel(), 65536);
}

TEST(Memory, ShapesTooLargeToCountAreRefusedNotOverflowed) {
  const std::string e = error_of([] { Tensor t({int64_t{1} << 40, int64_t{1} << 40}); });
  EXPECT_NE(e.find("more values than this engine allows"), std::string::npos) << e;
}

TEST(Memory, EstimateSeesWhatAFrozenBackboneSaves) {
  auto backbone = nn::resnet50({.include_top = false, .input_shape = {224, 224, 3}});
  auto model = nn::classifier_on(*backbone, 12);
  const auto unfrozen = train::estimate_training_memory(*model, 64, 2);
  backbone->set_trainable(false);
  const auto frozen = train::estimate_training_memory(*model, 64, 2);
  EXPECT_EQ(unfrozen.weights, frozen.weights);
  EXPECT_GT(unfrozen.gradients, 85u << 20);  // ~23.5 M trainable weights
  EXPECT_LT(frozen.gradients, 1u << 20);     // the head's 24,588
  EXPECT_GT(unfrozen.activations, 10 * frozen.activations);
  EXPECT_GT(unfrozen.total(), uint64_t{6} << 30);  // ResNet50 at 224x224, batch 64: many GiB
}

// The example: ResNet50 with an unfrozen backbone at 224x224, batch
// 64, within a browser-sized budget.
TEST(Memory, FitRefusesWhatCannotTrainWithinTheBudgetBeforeTheFirstStep) {
  auto backbone = nn::resnet50({.include_top = false, .input_shape = {224, 224, 3}});
  auto model = nn::classifier_on(*backbone, 2);
  model->compile(std::make_shared<optim::Adam>(), "sparse_categorical_crossentropy", {"accuracy"});
  Tensor x({64, 224, 224, 3}), y({64});
  const std::vector<float> head_before = model->get_layer("dense")->weights()[0].value.to_vector();
  BudgetScope scope(size_t{2} << 30);
  const std::string e = error_of([&] { model->fit(x, y, {.batch_size = 64, .epochs = 1}); });
  EXPECT_NE(e.find("at batch size 64 needs about"), std::string::npos) << e;
  EXPECT_NE(e.find("more than the memory budget of 2.0 GiB"), std::string::npos) << e;
  EXPECT_NE(e.find("or less would fit"), std::string::npos) << e;
  EXPECT_NE(e.find("freezing layers (a pretrained backbone, say) also helps"), std::string::npos) << e;
  EXPECT_EQ(model->get_layer("dense")->weights()[0].value.to_vector(), head_before);
  // Frozen, a small batch of the same model fits.
  backbone->set_trainable(false);
  EXPECT_NO_THROW(train::check_training_fits(*model, 8, 2));
}

// The estimate against what one training step really holds at its peak.
TEST(Memory, EstimateIsCloseToTheRealPeak) {
  for (bool frozen : {false, true}) {
    auto backbone = nn::resnet50({.include_top = false, .input_shape = {96, 96, 3}});
    backbone->set_trainable(!frozen);
    auto model = nn::classifier_on(*backbone, 2);
    model->compile(std::make_shared<optim::Adam>(), "sparse_categorical_crossentropy", {"accuracy"});
    Tensor x({8, 96, 96, 3}), y({8});
    const size_t base = tensor_bytes_in_use();
    reset_peak_tensor_bytes();
    model->fit(x, y, {.batch_size = 8, .epochs = 1});
    // Tensors at their peak, plus the weights made before and Adam's two slots
    // per trainable weight (kept outside tensors).
    const double real =
        static_cast<double>(peak_tensor_bytes() - base) +
        4.0 * static_cast<double>(model->count_params() + 2 * model->count_trainable_params());
    const double est = static_cast<double>(train::estimate_training_memory(*model, 8, 2).total());
    EXPECT_GT(est, 0.9 * real) << "frozen " << frozen << ": real " << real << ", estimate " << est;
    EXPECT_LT(est, 1.5 * real) << "frozen " << frozen << ": real " << real << ", estimate " << est;
  }
}

}  // namespace
}  // namespace cnn
