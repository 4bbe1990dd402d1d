// Task: a move-only, type-erased `void()` callable for the worker facility (see worker_pool.h).
//
// std::function needs copyable callables; a job usually owns move-only data (a PCM frame moved in, a
// unique_ptr to a codec), so the facility uses its own small wrapper. A Task that is dropped unrun (queue
// policy, close, shutdown) is simply destroyed: whatever it owns is released by its destructor (RAII), on
// the thread that drops it. Pure C++17, no N-API.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace sw {
namespace work {

class Task {
 public:
  Task() = default;
  template <typename F, typename = std::enable_if_t<!std::is_same<std::decay_t<F>, Task>::value>>
  Task(F&& f)  // NOLINT(google-explicit-constructor): lambdas convert implicitly, like std::function
      : impl_(std::make_unique<Impl<std::decay_t<F>>>(std::forward<F>(f))) {}
  Task(Task&&) noexcept = default;
  Task& operator=(Task&&) noexcept = default;
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  explicit operator bool() const { return impl_ != nullptr; }
  void operator()() { impl_->Run(); }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual void Run() = 0;
  };
  template <typename F>
  struct Impl final : Base {
    explicit Impl(F&& f) : fn(std::move(f)) {}
    explicit Impl(const F& f) : fn(f) {}
    void Run() override { fn(); }
    F fn;
  };
  std::unique_ptr<Base> impl_;
};

}  // namespace work
}  // namespace sw
