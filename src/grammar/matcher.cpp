// ConstraintMatcher: a sequence's automaton states, one per accepted token (so rollback is a pop), the mask from
// the constraint's cache plus the end-of-generation tokens in accept states.
#include <cmath>
#include <limits>

#include "grammar/constraint_impl.hpp"
#include "qtr/error.hpp"

namespace qtr {

ConstraintMatcher::ConstraintMatcher(std::shared_ptr<const Constraint> constraint) : constraint_(std::move(constraint)) {
  if (!constraint_) throw Error(Errc::invalid_argument, "constraint matcher: no constraint");
  reset();
}

void ConstraintMatcher::reset() {
  history_.assign(1, constraint_->impl().automaton->start());
  ended_.assign(1, 0);
}

bool ConstraintMatcher::accepting() const {
  if (ended_.back()) return true;
  std::lock_guard<std::mutex> lock(constraint_->impl().mu);
  return constraint_->impl().automaton->accepting(history_.back());
}

bool ConstraintMatcher::finished() const {
  if (ended_.back()) return true;
  std::lock_guard<std::mutex> lock(constraint_->impl().mu);
  const auto& a = *constraint_->impl().automaton;
  return a.accepting(history_.back()) && !a.can_continue(history_.back());
}

void ConstraintMatcher::fill_mask(std::span<uint64_t> words) {
  const Constraint::Impl& impl = constraint_->impl();
  if (words.size() < impl.mask_words) throw Error(Errc::invalid_argument, "constraint mask: buffer too small");
  std::fill(words.begin(), words.end(), 0);
  if (ended_.back()) return;
  const uint32_t state = history_.back();
  bool accept = false;
  {
    std::lock_guard<std::mutex> lock(impl.mu);
    const auto& bits = impl.mask_locked(state);
    std::copy(bits.begin(), bits.end(), words.begin());
    accept = impl.automaton->accepting(state);
  }
  if (accept) {  // end-of-generation tokens only where the text is complete
    for (TokenId e : impl.vocab->eog()) words[static_cast<size_t>(e) >> 6] |= uint64_t{1} << (e & 63);
  }
}

void ConstraintMatcher::apply(std::span<float> logits) {
  const size_t n_words = constraint_->impl().mask_words;
  scratch_.resize(n_words);
  fill_mask(scratch_);
  bool any = false;
  const size_t n = std::min(logits.size(), constraint_->impl().vocab->n_vocab());
  for (size_t t = 0; t < n; ++t) {
    if (!((scratch_[t >> 6] >> (t & 63)) & 1)) {
      logits[t] = -std::numeric_limits<float>::infinity();
    } else {
      any = true;
    }
  }
  for (size_t t = n; t < logits.size(); ++t) logits[t] = -std::numeric_limits<float>::infinity();
  if (!any) {
    throw Error(Errc::invalid_argument, finished() ? "constraint: the text is complete; no token may follow"
                                                   : "constraint: no token of this vocabulary can continue the text");
  }
}

bool ConstraintMatcher::allowed(TokenId token) {
  const Constraint::Impl& impl = constraint_->impl();
  if (token < 0 || static_cast<size_t>(token) >= impl.vocab->n_vocab() || ended_.back()) return false;
  if (impl.vocab->is_eog(token)) return accepting();
  const std::string& piece = impl.vocab->piece(token);
  if (piece.empty()) return false;
  std::lock_guard<std::mutex> lock(impl.mu);
  return impl.automaton->run(history_.back(), reinterpret_cast<const uint8_t*>(piece.data()), piece.size()) !=
         grammar::Automaton::kDead;
}

bool ConstraintMatcher::accept(TokenId token) {
  const Constraint::Impl& impl = constraint_->impl();
  if (token < 0 || static_cast<size_t>(token) >= impl.vocab->n_vocab() || ended_.back()) return false;
  if (impl.vocab->is_eog(token)) {
    if (!accepting()) return false;
    history_.push_back(history_.back());
    ended_.push_back(1);
    return true;
  }
  const std::string& piece = impl.vocab->piece(token);
  if (piece.empty()) return false;
  return accept_bytes(piece);
}

bool ConstraintMatcher::accept_bytes(std::string_view bytes) {
  const Constraint::Impl& impl = constraint_->impl();
  if (ended_.back()) return false;
  uint32_t s;
  {
    std::lock_guard<std::mutex> lock(impl.mu);
    s = impl.automaton->run(history_.back(), reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  if (s == grammar::Automaton::kDead) return false;
  history_.push_back(s);
  ended_.push_back(0);
  return true;
}

void ConstraintMatcher::rollback(size_t n) {
  if (n > steps()) throw Error(Errc::invalid_argument, "constraint matcher: rollback past the start");
  history_.resize(history_.size() - n);
  ended_.resize(ended_.size() - n);
}

}  // namespace qtr
