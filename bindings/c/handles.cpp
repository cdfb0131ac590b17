// The table of live handles. Looking a pointer up never dereferences it, so a freed or foreign pointer is reported
// as QTR_ERR_INVALID_HANDLE instead of being read. (An address reused by a new handle of the same kind passes: the
// detection is best effort.) This table is the C API's one piece of process-wide state.
#include "handles.hpp"

#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "status.hpp"

namespace qtr::capi {

namespace {

struct HandleTable {
  std::shared_mutex mutex;
  std::unordered_map<const void*, HandleKind> live;
};

HandleTable& table() {
  static HandleTable* instance = new HandleTable();  // never destroyed: handles may be freed from atexit handlers
  return *instance;
}

const char* kind_name(HandleKind kind) {
  switch (kind) {
    case HandleKind::model: return "qtr_model";
    case HandleKind::context: return "qtr_context";
    case HandleKind::sampler: return "qtr_sampler";
    case HandleKind::constraint: return "qtr_constraint";
  }
  return "handle";
}

[[noreturn]] void bad_handle(const void* handle, HandleKind kind, const char* what) {
  fail(QTR_ERR_INVALID_HANDLE, std::string(what) + ": " +
                                   (handle ? "not a live " + std::string(kind_name(kind)) + " (freed, or not one)"
                                           : std::string("NULL ") + kind_name(kind)));
}

}  // namespace

void register_handle(const void* handle, HandleKind kind) {
  HandleTable& t = table();
  std::unique_lock lock(t.mutex);
  t.live[handle] = kind;
}

void unregister_handle(const void* handle, HandleKind kind, const char* what) {
  HandleTable& t = table();
  std::unique_lock lock(t.mutex);
  const auto it = t.live.find(handle);
  if (it == t.live.end() || it->second != kind) bad_handle(handle, kind, what);
  t.live.erase(it);
}

void check_handle(const void* handle, HandleKind kind, const char* what) {
  if (handle == nullptr) bad_handle(handle, kind, what);
  HandleTable& t = table();
  std::shared_lock lock(t.mutex);
  const auto it = t.live.find(handle);
  if (it == t.live.end() || it->second != kind) bad_handle(handle, kind, what);
}

}  // namespace qtr::capi
