#include "text_stream.hpp"

#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace qtr::python {

TextStream::TextStream(std::shared_ptr<ModelHandle> model, std::vector<TokenId> prompt, GenerateOptions options)
    : model_(std::move(model)), prompt_(std::move(prompt)), options_(std::move(options)) {}

TextStream::~TextStream() {
  // The worker never needs the GIL, so joining while holding it cannot deadlock; cancellation makes it quick.
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void TextStream::run() {
  GenerateResult result;
  std::exception_ptr error;
  try {
    ModelHandle::Lease session = model_->session();
    result = generate(*session, prompt_, options_, [this](std::string_view piece) { return push(piece); });
  } catch (...) {
    error = std::current_exception();
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    result_ = std::move(result);
    error_ = error;
    worker_done_ = true;
  }
  changed_.notify_all();
}

bool TextStream::push(std::string_view piece) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return cancelled_ || queue_.size() < kCapacity; });
  if (cancelled_) return false;
  queue_.emplace_back(piece);
  lock.unlock();
  changed_.notify_all();
  return true;
}

namespace {

// Marks a stream as being read for the duration of next(), like a Python generator's "already executing".
class ReaderGuard {
 public:
  explicit ReaderGuard(bool& reading) : reading_(reading) {
    if (reading_) throw py::value_error("TextStream is already being read by another thread");
    reading_ = true;
  }
  ~ReaderGuard() { reading_ = false; }
  ReaderGuard(const ReaderGuard&) = delete;
  ReaderGuard& operator=(const ReaderGuard&) = delete;

 private:
  bool& reading_;
};

}  // namespace

std::optional<std::string> TextStream::next() {
  if (finished_) return std::nullopt;
  ReaderGuard guard(reading_);
  if (PyErr_CheckSignals() != 0) {
    cancel_and_join();
    throw py::error_already_set();
  }
  if (!started_) {
    started_ = true;
    worker_ = std::thread([this] { run(); });
  }
  for (;;) {
    std::optional<std::string> piece;
    bool done = false;
    {
      py::gil_scoped_release release;
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait_for(lock, kSignalPoll, [&] { return !queue_.empty() || worker_done_; });
      if (!queue_.empty()) {
        piece = std::move(queue_.front());
        queue_.pop_front();
      } else {
        done = worker_done_;
      }
    }
    if (piece) {
      changed_.notify_all();  // room in the queue
      text_ += *piece;
      return piece;
    }
    if (done) {
      finish();
      return std::nullopt;
    }
    if (PyErr_CheckSignals() != 0) {  // e.g. KeyboardInterrupt from Ctrl-C
      cancel_and_join();
      throw py::error_already_set();
    }
  }
}

void TextStream::close() {
  if (finished_) return;
  if (reading_) {  // another thread waits in next(): let the worker stop, and that reader finish
    {
      std::lock_guard<std::mutex> lock(mutex_);
      cancelled_ = true;
    }
    changed_.notify_all();
    return;
  }
  if (!started_) {  // nothing ran: the generation is simply cancelled
    finished_ = true;
    result_.stop_reason = StopReason::cancelled;
    return;
  }
  cancel_and_join();
}

void TextStream::cancel_and_join() {
  {
    py::gil_scoped_release release;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      cancelled_ = true;
      queue_.clear();
    }
    changed_.notify_all();
    if (worker_.joinable()) worker_.join();
  }
  finished_ = true;
  if (!started_) result_.stop_reason = StopReason::cancelled;
  // An error the worker hit is dropped here: the reader asked to stop.
}

void TextStream::finish() {
  {
    py::gil_scoped_release release;
    if (worker_.joinable()) worker_.join();
  }
  finished_ = true;
  if (error_) std::rethrow_exception(error_);
}

}  // namespace qtr::python
