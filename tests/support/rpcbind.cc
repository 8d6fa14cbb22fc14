#include "support/rpcbind.h"

#include "backend/local_ganesha.h"

namespace ovl::testsupport {

Status EnsureRpcbind() {
  // The harness's own: it also requires rpcbind's unix socket to accept, through which ganesha
  // and rpcinfo register (backend/local_ganesha.h).
  return backend::EnsureRpcbind();
}

}  // namespace ovl::testsupport
