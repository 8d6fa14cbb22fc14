// harness-agent: the client side of the harness. Runs operations for the runner over a
// line-oriented JSON protocol on stdin/stdout (agent/protocol.h). Diagnostics go to stderr only:
// stdout carries nothing but responses.
#include <malloc.h>

#include <iostream>

#include "agent/agent.h"

int main() {
  // A load moves up to 1 MiB per operation through several buffers (libnfs's, the result's).
  // glibc would map such blocks and give their pages back to the kernel on free, so every
  // operation would fault its pages in again and the client, not the server, would bound the
  // throughput measured: keep them in the heap, and the heap's free memory.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  std::ios::sync_with_stdio(false);
  ovl::agent::Agent agent;
  agent.Serve(std::cin, std::cout);
  return 0;
}
