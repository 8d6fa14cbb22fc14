#include "backend/libvirt/stream.h"

#include <chrono>
#include <mutex>
#include <thread>

#include "backend/libvirt/hypervisor_impl.h"

namespace ovl::backend::libvirt {

void EnsureEventLoop() {
  static std::once_flag once;
  std::call_once(once, [] {
    virEventRegisterDefaultImpl();
    // The process's libvirt event loop: it runs as long as the process, like libvirt's own
    // clients' (virsh) do.
    std::thread([] {
      for (;;) virEventRunDefaultImpl();
    }).detach();
  });
}

// What a watched stream's callbacks share with Unwatch: `alive` goes false once, under `mu`,
// either when the stream ends or when Unwatch is called.
struct Stream::Watcher {
  std::mutex mu;
  bool alive = true;  // GUARDED_BY(mu)
  DataFn on_data;
  EndFn on_end;
};

namespace {

using WatcherRef = std::shared_ptr<Stream::Watcher>;

}  // namespace

Stream::Stream(virStreamPtr stream, std::string what) : stream_(stream), what_(std::move(what)) {}

Stream::~Stream() {
  Unwatch();
  Abort();
  virStreamFree(stream_);
}

Status Stream::Watch(DataFn on_data, EndFn on_end) {
  watcher_ = std::make_shared<Watcher>();
  watcher_->on_data = std::move(on_data);
  watcher_->on_end = std::move(on_end);
  auto callback = [](virStreamPtr st, int, void* opaque) {
    Watcher& w = **static_cast<WatcherRef*>(opaque);
    std::lock_guard<std::mutex> g(w.mu);
    if (!w.alive) return;
    char buf[65536];
    // Bounded by what the stream holds now: it returns -2 once drained.
    for (;;) {
      const int n = virStreamRecv(st, buf, sizeof buf);
      if (n == -2) return;
      if (n > 0) {
        w.on_data(buf, static_cast<size_t>(n));
        continue;
      }
      w.alive = false;
      (void)virStreamEventRemoveCallback(st);
      w.on_end();
      return;
    }
  };
  auto* opaque = new WatcherRef(watcher_);
  const int events = VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP;
  if (virStreamEventAddCallback(stream_, events, callback, opaque,
                                [](void* o) { delete static_cast<WatcherRef*>(o); }) != 0) {
    delete opaque;
    watcher_.reset();
    return LibvirtError(EIO, "watch " + what_);
  }
  return Status::Ok();
}

void Stream::Unwatch() {
  if (!watcher_) return;
  bool was_alive;
  {
    std::lock_guard<std::mutex> g(watcher_->mu);
    was_alive = watcher_->alive;
    watcher_->alive = false;
  }
  // Outside the lock: the callback holds it while it calls into libvirt.
  if (was_alive) (void)virStreamEventRemoveCallback(stream_);
  watcher_.reset();
}

Status Stream::Send(const char* data, size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  size_t off = 0;
  // Bounded by the deadline while the stream would block.
  while (off < n) {
    const int sent = virStreamSend(stream_, data + off, n - off);
    if (sent == -2) {
      if (std::chrono::steady_clock::now() > deadline) {
        return Status::Error(ETIMEDOUT, "send to " + what_ + ": it stayed full for 30 s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (sent < 0) return LibvirtError(EIO, "send to " + what_);
    off += static_cast<size_t>(sent);
  }
  return Status::Ok();
}

Status Stream::Finish() {
  done_ = true;
  if (virStreamFinish(stream_) != 0) return LibvirtError(EIO, "finish " + what_);
  return Status::Ok();
}

void Stream::Abort() {
  if (done_) return;
  done_ = true;
  (void)virStreamAbort(stream_);
}

}  // namespace ovl::backend::libvirt
