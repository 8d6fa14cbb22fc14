// ErrnoName (declared in syscall_executor.h): errno values as the NFS error names of ops.h.
#include <string.h>

#include <cerrno>
#include <string>

#include "agent/syscall_executor.h"
#include "base/status.h"

namespace ovl::agent {

std::string ErrnoName(int code) {
  switch (code) {
    case EPERM:
      return "PERM";
    case ENOENT:
      return "NOENT";
    case EIO:
      return "IO";
    case ENXIO:
      return "NXIO";
    case EACCES:
      return "ACCES";
    case EEXIST:
      return "EXIST";
    case EXDEV:
      return "XDEV";
    case ENODEV:
      return "NODEV";
    case ENOTDIR:
      return "NOTDIR";
    case EISDIR:
      return "ISDIR";
    case EINVAL:
      return "INVAL";
    case EFBIG:
      return "FBIG";
    case ENOSPC:
      return "NOSPC";
    case EROFS:
      return "ROFS";
    case EMLINK:
      return "MLINK";
    case ENAMETOOLONG:
      return "NAMETOOLONG";
    case ENOTEMPTY:
      return "NOTEMPTY";
    case EDQUOT:
      return "DQUOT";
    case ESTALE:
      return "STALE";
    case EREMOTE:
      return "REMOTE";
    case EOPNOTSUPP:
    case kErrNotSupp:
      return "NOTSUPP";
    case kErrBadHandle:
      return "BADHANDLE";
    case kErrNotSync:
      return "NOT_SYNC";
    case kErrBadCookie:
      return "BAD_COOKIE";
    case kErrTooSmall:
      return "TOOSMALL";
    case kErrServerFault:
      return "SERVERFAULT";
    case kErrBadType:
      return "BADTYPE";
    case kErrJukebox:
      return "JUKEBOX";
    default:
      break;
  }
  const char* name = strerrorname_np(code);
  return name != nullptr ? name : "ERRNO_" + std::to_string(code);
}

}  // namespace ovl::agent
