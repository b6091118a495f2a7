// Keras's fit() as a loop a caller can drive one batch at a time, so a UI
// (the browser page, the JS API) can handle events between batches and stop
// cleanly. Model::fit runs the same loop to the end.
#pragma once

#include <memory>

#include "cnn/nn/model.h"
#include "cnn/train/fit.h"

namespace cnn::train {

class FitLoop {
 public:
  // Trains on arrays: validation_split / validation_data as in Keras.
  FitLoop(nn::Model& model, const Tensor& x, const Tensor& y, const FitOptions& opt);
  // Trains on a dataset (opt.validation_dataset optional). The dataset must
  // outlive the loop.
  FitLoop(nn::Model& model, Dataset& data, const FitOptions& opt);
  ~FitLoop();
  FitLoop(const FitLoop&) = delete;
  FitLoop& operator=(const FitLoop&) = delete;

  bool done() const { return done_; }
  // Runs the next batch; after an epoch's last batch (or a stop request) it
  // also validates and closes the epoch. Returns false when already done.
  bool step();
  // Stops between batches (the model stays consistent): the epoch in
  // progress is closed at once as Keras closes it, validation included.
  // Callbacks that set model.stop_training get the same from step().
  void stop();

  int epoch() const { return epoch_; }      // current (or last) epoch
  int64_t batch() const { return batch_; }  // batches done in this epoch
  int64_t steps_per_epoch() const { return steps_; }
  int64_t samples_seen() const { return samples_in_epoch_; }  // this epoch
  bool epoch_ended() const { return epoch_ended_; }           // the last step closed an epoch
  const Logs& batch_logs() const { return batch_logs_; }      // running means of this epoch
  const Logs& epoch_logs() const { return epoch_logs_; }      // the last closed epoch
  const History& history() const { return history_; }
  double validation_seconds() const { return validation_seconds_; }  // of the last closed epoch

 private:
  void init(Dataset& data, const FitOptions& opt);
  void close_epoch();

  nn::Model& model_;
  std::unique_ptr<Dataset> owned_train_, owned_val_;
  Dataset* data_ = nullptr;
  Dataset* val_ = nullptr;
  FitOptions opt_;
  Rng rng_;
  std::vector<nn::Weight*> params_;
  int64_t steps_ = 0, batch_ = 0, samples_in_epoch_ = 0;
  int epoch_ = 0;
  int64_t first_pass_ = 0;  // the model's passes before this fit (nn::Model's passes_begun_)
  bool done_ = false, epoch_ended_ = false, epoch_open_ = false;
  double loss_sum_ = 0, acc_sum_ = 0, validation_seconds_ = 0;
  Logs batch_logs_, epoch_logs_;
  History history_;
};

}  // namespace cnn::train
