// TextStream — a generation running on a worker thread, read as a Python iterator of text pieces.
//
// The worker runs qtr::generate in a session leased from the model's pool and never touches Python. Pieces pass
// through a small bounded queue, so the generation stays at most kCapacity pieces ahead of the reader. The reader
// (next(), called with the GIL held) waits with the GIL released, waking every kSignalPoll to run Python's signal
// handlers: a KeyboardInterrupt cancels the generation, waits for the worker, and propagates. close() (or the
// destructor) cancels too: the worker's text callback returns false and qtr::generate stops.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "model_handle.hpp"
#include "qtr/generate.hpp"

namespace qtr::python {

class TextStream {
 public:
  TextStream(std::shared_ptr<ModelHandle> model, std::vector<TokenId> prompt, GenerateOptions options);
  ~TextStream();
  TextStream(const TextStream&) = delete;
  TextStream& operator=(const TextStream&) = delete;

  // The next piece of text, or nullopt when the generation is over. Call with the GIL held. Starts the worker on
  // the first call; rethrows the worker's error; throws pybind11::error_already_set for a pending signal (after
  // cancelling). One reader at a time: a second thread calling next() meanwhile gets a ValueError.
  std::optional<std::string> next();
  // Cancels the generation (if it is still running) and waits for the worker. Call with the GIL held. While another
  // thread is inside next(), only asks the worker to stop (that reader then finishes the stream).
  void close();

  bool finished() const { return finished_; }
  // Set once finished: why the generation stopped, the sampled ids, the stop string found.
  std::optional<StopReason> stop_reason() const { return finished_ ? std::optional(result_.stop_reason) : std::nullopt; }
  const std::vector<TokenId>& tokens() const { return result_.tokens; }
  const std::string& stop_string() const { return result_.stop_string; }
  const std::string& text() const { return text_; }  // every piece returned so far
  size_t n_prompt_tokens() const { return prompt_.size(); }

 private:
  static constexpr size_t kCapacity = 8;
  static constexpr std::chrono::milliseconds kSignalPoll{20};

  void run();                              // the worker
  bool push(std::string_view piece);       // worker side of the queue; false once cancelled
  void cancel_and_join();                  // GIL released inside
  void finish();                           // joins, marks finished, rethrows the worker's error

  std::shared_ptr<ModelHandle> model_;
  std::vector<TokenId> prompt_;
  GenerateOptions options_;

  std::mutex mutex_;  // guards the fields below up to worker_
  std::condition_variable changed_;
  std::deque<std::string> queue_;
  bool cancelled_ = false;
  bool worker_done_ = false;
  std::exception_ptr error_;
  GenerateResult result_;  // written by the worker before worker_done_, read after the join
  std::thread worker_;

  bool started_ = false, finished_ = false;  // reader side only (GIL held)
  bool reading_ = false;                     // a thread is inside next() (GIL held to change)
  std::string text_;
};

}  // namespace qtr::python
