// ModelHandle — what a Python qtr.Model holds: the loaded model (shared, immutable) and a pool of idle Sessions,
// so that each generation, logits or embedding call runs in a session of its own (one per thread at a time) and
// the KV caches are reused instead of reallocated. Streams keep the handle alive through a shared_ptr.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "qtr/chat_template.hpp"
#include "qtr/model.hpp"

namespace qtr::python {

class ModelHandle : public std::enable_shared_from_this<ModelHandle> {
 public:
  // Loads the model and creates one session, so that bad session options (kv_type, n_ctx) fail here.
  static std::shared_ptr<ModelHandle> load(const std::filesystem::path& path, const LoadOptions& load,
                                           const SessionOptions& session);

  // A session taken from the pool (or created), reset and put back when the lease ends.
  class Lease {
   public:
    Lease(std::shared_ptr<ModelHandle> owner, std::unique_ptr<Session> session)
        : owner_(std::move(owner)), session_(std::move(session)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) noexcept = default;
    ~Lease();
    Session& operator*() const { return *session_; }
    Session* operator->() const { return session_.get(); }

   private:
    std::shared_ptr<ModelHandle> owner_;
    std::unique_ptr<Session> session_;
  };
  // Thread-safe; call without the GIL (creating a session allocates its KV cache).
  Lease session();

  const Model& model() const { return *model_; }
  const SessionOptions& session_options() const { return session_options_; }
  int64_t n_ctx() const { return n_ctx_; }  // the resolved context length of every session
  // The model's chat template, parsed on first use; qtr::Error(unsupported) when the model has none.
  const ChatTemplate& chat_template();

 private:
  ModelHandle() = default;
  void give_back(std::unique_ptr<Session> session);

  static constexpr size_t kMaxIdle = 4;  // idle sessions kept (each holds a KV cache of n_ctx positions)
  std::shared_ptr<const Model> model_;
  SessionOptions session_options_;
  int64_t n_ctx_ = 0;
  std::mutex mutex_;  // guards idle_ and template_
  std::vector<std::unique_ptr<Session>> idle_;
  std::optional<ChatTemplate> template_;
};

}  // namespace qtr::python
