// A libvirt stream (virStream): bytes to or from a domain's console or channel, or a storage
// volume's upload or download, carried by the libvirt connection itself (local or remote).
// A transfer stream blocks; a watched one (a console or channel, open for as long as its domain
// runs) is non-blocking and read by libvirt's event loop (EnsureEventLoop): blocking receives on
// several streams of one remote connection deadlock in libvirt 9.0's client (docs/vms.md).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"

struct _virStream;

namespace ovl::backend::libvirt {

// Registers libvirt's default event loop and runs it on a thread of its own, once per process;
// before the first connection (libvirt needs it registered first for keepalive and streams).
void EnsureEventLoop();

class Stream {
 public:
  using DataFn = std::function<void(const char* data, size_t n)>;
  using EndFn = std::function<void()>;

  // Takes `stream` (opened by Hypervisor); `what` names it in errors.
  Stream(_virStream* stream, std::string what);
  ~Stream();  // aborts a stream not finished
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  _virStream* get() const { return stream_; }
  const std::string& what() const { return what_; }
  // Non-blocking streams: from now on, the event loop thread calls `on_data` with what arrives
  // and, once, `on_end` when the stream ends (its domain stopped) or breaks.
  Status Watch(DataFn on_data, EndFn on_end);
  // Stops the callbacks; when it returns, none runs any more. Idempotent.
  void Unwatch();
  // Sends all of `data` (on a non-blocking stream, retrying while it would block, up to 30 s).
  Status Send(const char* data, size_t n);
  // Ends a transfer cleanly (the far end then completes it, e.g. a volume upload).
  Status Finish();
  // Ends the stream now (both directions); further calls fail. Idempotent.
  void Abort();

  struct Watcher;  // stream.cc: the callbacks' shared state

 private:
  _virStream* stream_;
  std::string what_;
  bool done_ = false;
  std::shared_ptr<Watcher> watcher_;
};

}  // namespace ovl::backend::libvirt
