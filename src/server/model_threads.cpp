#include "model_threads.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>

#include <atomic>
#include <cerrno>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

namespace overlap::server {

void run_on_threads(std::size_t count, const std::function<void(std::size_t)>& body,
                    const std::function<void()>& stop_others) {
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  auto guarded = [&](std::size_t index) {
    try {
      body(index);
    } catch (...) {
      if (!failed.exchange(true)) error = std::current_exception();
      stop_others();
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < count; ++i) threads.emplace_back(guarded, i);
  guarded(0);
  for (std::thread& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

namespace {
void* run_body(void* arg) {
  auto* body = static_cast<std::function<void()>*>(arg);
  (*body)();
  delete body;
  return nullptr;
}
}  // namespace

int start_detached_thread(std::size_t stack_bytes, std::function<void()> body) noexcept {
  std::function<void()>* owned = nullptr;
  try {
    owned = new std::function<void()>(std::move(body));
  } catch (...) {
    return ENOMEM;
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stack_bytes);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t t;
  const int rc = pthread_create(&t, &attr, &run_body, owned);
  pthread_attr_destroy(&attr);
  if (rc != 0) delete owned;
  return rc;
}

int open_signal_fd(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  const int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::system_category(), "signalfd");
  return fd;
}

}  // namespace overlap::server
