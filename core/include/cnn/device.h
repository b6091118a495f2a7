// Where a tensor's values live, and which backend computes on them. Every
// op runs on the device of its inputs (they must share one); the CPU backend
// is always there, the CUDA backend only in builds made with the CUDA toolkit
// and on machines with an NVIDIA GPU.
#pragma once

#include <stdexcept>
#include <string>

namespace cnn {

enum class Device { CPU, CUDA };

const char* device_name(Device d);  // "cpu", "cuda"
// "cpu" or "cuda" (also "gpu"); throws ValueError naming the choices.
Device parse_device(const std::string& name);
// Whether tensors can be made on `d` in this build on this machine.
bool device_available(Device d);
// One line for a person: the GPU found ("NVIDIA H200, 139.8 GiB, CUDA 13.0"),
// or why `d` is not available ("this build has no CUDA backend ...").
std::string device_description(Device d);

// A device that is not available, or tensors on different devices meeting
// in one op, or host code reading a device tensor's values directly.
class DeviceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace cnn
