#include "model_handle.hpp"

#include "qtr/chat.hpp"

namespace qtr::python {

std::shared_ptr<ModelHandle> ModelHandle::load(const std::filesystem::path& path, const LoadOptions& load,
                                               const SessionOptions& session) {
  std::shared_ptr<ModelHandle> handle(new ModelHandle());
  handle->model_ = Model::load(path, load);
  handle->session_options_ = session;
  auto first = std::make_unique<Session>(handle->model_, session);
  handle->n_ctx_ = first->n_ctx();
  handle->idle_.push_back(std::move(first));
  return handle;
}

ModelHandle::Lease::~Lease() {
  if (owner_ && session_) owner_->give_back(std::move(session_));
}

ModelHandle::Lease ModelHandle::session() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<Session> s = std::move(idle_.back());
      idle_.pop_back();
      return Lease(shared_from_this(), std::move(s));
    }
  }
  return Lease(shared_from_this(), std::make_unique<Session>(model_, session_options_));
}

void ModelHandle::give_back(std::unique_ptr<Session> session) {
  try {
    session->reset();
  } catch (...) {
    return;  // a session that cannot be reset is dropped, not reused
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(session));
}

const ChatTemplate& ModelHandle::chat_template() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!template_) template_.emplace(load_chat_template(*model_));
  return *template_;
}

}  // namespace qtr::python
