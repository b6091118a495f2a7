// cnnp's subcommands; each returns the process exit code.
#pragma once

namespace cnnp {

int cmd_summary(int argc, char** argv);
int cmd_train(int argc, char** argv);
int cmd_predict(int argc, char** argv);
int cmd_make_dataset(int argc, char** argv);

}  // namespace cnnp
