// A remote VM's console and channels on the harness host (docs/vms.md, "Several hosts"): libvirt
// streams (virDomainOpenConsole, virDomainOpenChannel) copied to a local file and served on a
// local unix socket, so that the code reading a local VM's console file and connecting to its
// channel sockets works unchanged for a VM whose files are on another host.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "backend/libvirt/stream.h"
#include "base/fd.h"
#include "base/status.h"

namespace ovl::backend::libvirt {

// Appends what a console stream carries to a local file until the stream ends.
class ConsoleCopy {
 public:
  // Starts copying the non-blocking `stream` to `path` (appended; created when missing), from
  // the event loop thread.
  static Result<std::unique_ptr<ConsoleCopy>> Start(std::unique_ptr<Stream> stream,
                                                    const std::string& path);
  ~ConsoleCopy();  // stops copying and ends the stream

 private:
  ConsoleCopy(std::unique_ptr<Stream> stream, Fd file);

  std::unique_ptr<Stream> stream_;
  Fd file_;
};

// Serves a channel stream on a local unix socket: one connection at a time, its bytes sent to
// the stream and the stream's bytes written to it (dropped while nobody is connected, as qemu
// drops them for a local socket), until the stream ends.
class ChannelProxy {
 public:
  // Listens on `socket_path` (replacing a stale socket there) and starts serving `stream`.
  static Result<std::unique_ptr<ChannelProxy>> Start(std::unique_ptr<Stream> stream,
                                                     const std::string& socket_path);
  // Closes the local socket and connection, ends the stream, removes the socket file.
  ~ChannelProxy();

 private:
  ChannelProxy(std::unique_ptr<Stream> stream, Fd listener, std::string path);
  void FromStream(const char* data, size_t n);  // event loop thread: stream -> connection
  void StreamEnded();                           // event loop thread
  void ToStream();                              // own thread: accept; connection -> stream

  std::unique_ptr<Stream> stream_;
  Fd listener_;
  std::string path_;
  std::mutex mu_;
  Fd conn_;  // GUARDED_BY(mu_)
  std::atomic<bool> ended_{false};
  std::atomic<bool> stopping_{false};
  std::thread to_;
};

}  // namespace ovl::backend::libvirt
