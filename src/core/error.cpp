#include "overlap/error.hpp"

#include <cerrno>
#include <string>

namespace overlap {
namespace {

class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "overlap"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::eof:
        return "end of stream";
      case errc::operation_aborted:
        return "operation aborted";
      case errc::timed_out:
        return "operation timed out";
      case errc::not_supported:
        return "operation not supported by this backend";
    }
    return "unknown overlap error";
  }

  // Lets callers test portable conditions: ec == std::errc::operation_canceled.
  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<errc>(value)) {
      case errc::operation_aborted:
        return std::errc::operation_canceled;
      case errc::timed_out:
        return std::errc::timed_out;
      case errc::not_supported:
        return std::errc::operation_not_supported;
      case errc::eof:
        break;
    }
    return {value, *this};
  }
};

}  // namespace

const std::error_category& overlap_category() noexcept {
  static const category_impl instance;
  return instance;
}

std::error_code error_from_result(int negative_errno) noexcept {
  const int e = -negative_errno;
  if (e == ECANCELED) return errc::operation_aborted;
  if (e == ETIME) return errc::timed_out;
  return {e, std::system_category()};
}

}  // namespace overlap
