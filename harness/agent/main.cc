// harness-agent: the client side of the harness. Runs operations for the runner over a
// line-oriented JSON protocol on stdin/stdout (see agent/agent.h). Diagnostics go to stderr only:
// stdout carries nothing but responses.
#include <iostream>

#include "agent/agent.h"

int main() {
  std::ios::sync_with_stdio(false);
  ovl::agent::Agent agent;
  agent.Serve(std::cin, std::cout);
  return 0;
}
