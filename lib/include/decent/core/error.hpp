#pragma once
/// @file The error hierarchy's input branch: every problem with what a user gave (a configuration value, a
/// data, topology or checkpoint file, a model spec) is a decent::input_error, and therefore a
/// std::invalid_argument, the type library functions throw for an argument they refuse. A driver has one
/// catch, std::invalid_argument, for exit code 2 (docs/reliability.md).
#include <stdexcept>

namespace decent {

/// Bad input named by what(): the key, file or value, where the problem is, and what is allowed.
class input_error : public std::invalid_argument {
public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace decent
