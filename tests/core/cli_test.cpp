// The native CLI, run as a process (native builds only).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "test_util.h"

using namespace cnn;

TEST(Cli, SummaryPrintsKerasTable) {
  const std::string out_path = ::testing::TempDir() + "cnnp_summary.txt";
  const std::string cmd = std::string(CNNP_EXE) + " summary --model " +
                          test::fixture_path("keras/lenet_sequential.json") + " > " + out_path;
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(test::read_text(out_path), test::read_text(test::fixture_path("keras/lenet_summary.txt")));
  const std::string bad = std::string(CNNP_EXE) + " summary --model /nonexistent.json 2> " + out_path;
  EXPECT_NE(std::system(bad.c_str()), 0);
  EXPECT_NE(test::read_text(out_path).find("/nonexistent.json"), std::string::npos);
  std::remove(out_path.c_str());
}
