// A parameterised test's name from its mechanism id: gtest takes letters, digits and '_' only,
// so every other character of the id becomes '_'.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace ipcbench::test {

inline std::string id_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  for (auto& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

}  // namespace ipcbench::test
