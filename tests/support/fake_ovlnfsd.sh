#!/bin/bash
# Stand-in for ovlnfsd in server_process_test: follows its command line and stderr protocol
# (listening line, replies to SIGUSR1/SIGUSR2, clean exit on SIGTERM) without serving NFS.
# Extra flags steer it: --fake-fail exits before listening, --fake-ignore-term ignores SIGTERM.
args="$*"
port=0
ignore_term=
while [ $# -gt 0 ]; do
  case "$1" in
    --listen) port="${2##*:}"; shift 2 ;;
    --fake-fail) echo "fake-ovlnfsd: failing as asked" >&2; exit 3 ;;
    --fake-ignore-term) ignore_term=1; shift ;;
    *) shift ;;
  esac
done
echo "fake-ovlnfsd: args $args" >&2
if [ "$port" = 0 ]; then port=$((30000 + RANDOM % 20000)); fi

drops=0
trap 'drops=$((drops + 1)); echo "ovlnfsd: caches dropped" >&2' USR1
trap 'echo "ovlnfsd: counters decode_cache_hits=7 decode_index_lookups=$drops" >&2' USR2
if [ -n "$ignore_term" ]; then trap '' TERM; else trap 'exit 0' TERM; fi
echo "ovlnfsd: listening on 127.0.0.1:$port" >&2
# `wait` returns when a trapped signal arrives, so the traps run at once. The sleeper does not
# inherit stderr: a SIGKILL of this shell must close the fixture's pipe immediately.
while true; do
  sleep 0.2 >/dev/null 2>&1 &
  wait $!
done
