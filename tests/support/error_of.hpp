#pragma once
// Test support: the message of the exception a call throws.
#include <catch2/catch.hpp>
#include <functional>
#include <string>

namespace decent::test {

/// The what() of the E that `f` throws; fails the test if it throws nothing or something else.
template <class E>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  FAIL("expected an exception of the tested type");
  return {};
}

}  // namespace decent::test
