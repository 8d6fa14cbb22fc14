#include "backend/libvirt/guest_scripts.h"

namespace ovl::backend::libvirt {

const std::string& InitScript() {
  static const std::string* s = new std::string(R"SH(#!/bin/sh
# init.sh: the run's guest init, exec'd by /sbin/ovl-init as PID 1.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
. /payload/role.env
hostname "$NAME"
# A supplied kernel's modules travel on the payload.
[ -d /payload/modules ] && mount --bind /payload/modules /lib/modules
modprobe -a virtio_net virtio_console
ip link set lo up
# NET: "mac=address/prefix ...": one point-to-point link per entry.
for spec in $NET; do
  mac=${spec%%=*}
  for dev in /sys/class/net/*; do
    [ "$(cat "$dev/address")" = "$mac" ] || continue
    ip addr add "${spec#*=}" dev "${dev##*/}" && ip link set "${dev##*/}" up
  done
done
port() {
  for p in /sys/class/virtio-ports/*; do
    [ "$(cat "$p/name" 2>/dev/null)" = "$1" ] && echo "/dev/${p##*/}"
  done
}
/payload/role.sh boot || echo "init.sh: role.sh boot failed"
if [ "$ROLE" = client ]; then
  agent=$(port ovl.agent)
  # The agent reads EOF while the host end is not connected: start it again (bounded).
  ( i=0
    while [ $i -lt 100000 ]; do
      /payload/harness-agent <>"$agent" >&0 2>>/run/agent.log
      sleep 0.2
      i=$((i + 1))
    done ) &
fi
# From here on the console shows the kernel's info messages too (overlayfs reports option
# fallbacks at that level): the run's cases judge them (harness/model/kernel_log.h); the boot's
# own info messages stay off the slow serial console.
echo 7 > /proc/sys/kernel/printk
echo "ovl-init: $NAME ($ROLE) ready after $(cut -d' ' -f1 /proc/uptime)s"
exec /payload/ovl-guestd "$(port ovl.control)"
)SH");
  return *s;
}

const std::string& RoleScript() {
  static const std::string* s = new std::string(R"SH(#!/bin/sh
# role.sh ACTION: what a guest does for its role (ROLE in role.env).
#   boot                  daemons (init.sh)
#   wipe N                fresh empty layers: N lowers, upper, work
#   serve                 mount the overlay of the layers (or start ovlnfsd on them)
#   export                (knfsd*) export the mounted overlay
#   unserve               stop exporting, unmount (or stop ovlnfsd)
#   reboot                unserve, stop daemons, unmount the data disk, then reboot
#   halt                  the same, then power off (the host boots another kernel: upgrade)
#   evict                 drop the guest's caches (and ovlnfsd's)
#   mount NAME ADDR PATH OPTS   (client) NFSv3 mount of ADDR:PATH on /mnt/NAME, fresh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
. /payload/role.env
L=/data/layers

lowers() { ls -d $L/lower* | sort -V | paste -sd: -; }

# until_true TENTHS CMD...: runs CMD every 0.1 s until it succeeds, at most TENTHS times.
until_true() {
  n=$1; shift
  i=0
  while [ $i -lt "$n" ]; do
    "$@" && return 0
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}

ovlnfsd_gone() { ! kill -0 "$(cat /run/ovlnfsd.pid 2>/dev/null)" 2>/dev/null; }
log_has() { grep -q "$1" /run/ovlnfsd.log 2>/dev/null; }
log_count() { grep -c "$1" /run/ovlnfsd.log 2>/dev/null || true; }
count_above() { [ "$(log_count "$1")" -gt "$2" ]; }


case "$1" in
boot)
  rpcbind
  rpc.statd --no-notify
  if [ "$ROLE" = client ]; then mkdir -p /mnt; exit 0; fi
  mkdir -p /data
  mount /dev/vdc /data || exit 1
  case "$ROLE" in
  knfsd*)
    mkdir -p /etc/nfs.conf.d
    printf '[nfsd]\nthreads=%s\nvers4=n\nvers4.0=n\nvers4.1=n\nvers4.2=n\n' "$THREADS" \
      > /etc/nfs.conf.d/ovlnfs.conf
    : > /etc/exports
    mount -t nfsd nfsd /proc/fs/nfsd
    rpc.mountd ;;  # nfsd threads start at export (below)
  esac ;;
wipe)
  rm -rf $L
  mkdir -p $L/upper $L/work
  i=0
  while [ $i -lt "$2" ]; do mkdir -p $L/lower$i; i=$((i + 1)); done
  sync ;;
serve)
  case "$ROLE" in
  knfsd)
    mkdir -p "$EXPORT"
    mount -t overlay overlay \
      -o "lowerdir=$(lowers),upperdir=$L/upper,workdir=$L/work${OVL_OPTS:+,$OVL_OPTS}" "$EXPORT" \
      || exit 1 ;;
  knfsd-fuse)
    mkdir -p "$EXPORT"
    modprobe fuse  # no udev: /dev/fuse appears only once the module is in
    fuse-overlayfs -o "lowerdir=$(lowers),upperdir=$L/upper,workdir=$L/work" "$EXPORT" || exit 1 ;;
  reference)
    : > /run/ovlnfsd.log
    # shellcheck disable=SC2086
    /payload/ovlnfsd --lower "$(lowers)" --upper $L/upper --work $L/work \
      --listen 0.0.0.0:2049 --export-path "$EXPORT" --allow 10.200.0.0/16 --squash none \
      --rpcbind --threads "$THREADS" $OVLNFSD_FLAGS >> /run/ovlnfsd.log 2>&1 &
    echo $! > /run/ovlnfsd.pid
    until_true 600 log_has "ovlnfsd: listening on" && exit 0
    cat /run/ovlnfsd.log
    exit 1 ;;
  esac ;;
export)
  echo "$EXPORT 10.200.0.0/16(rw,sync,no_root_squash,no_subtree_check,fsid=1)" > /etc/exports
  exportfs -ra
  # Only now: a request reaching nfsd before the export exists gets NFS3ERR_STALE, which a
  # client's mount never recovers from; before this, clients see a refused connection and retry.
  rpc.nfsd "$THREADS" ;;
unserve)
  case "$ROLE" in
  knfsd*)
    rpc.nfsd 0
    : > /etc/exports
    exportfs -ra
    exportfs -f
    if mountpoint -q "$EXPORT"; then
      until_true 50 umount "$EXPORT" || umount -l "$EXPORT"
    fi ;;
  reference)
    if ! ovlnfsd_gone; then
      kill -TERM "$(cat /run/ovlnfsd.pid)"
      until_true 300 ovlnfsd_gone || { kill -KILL "$(cat /run/ovlnfsd.pid)"; exit 1; }
    fi ;;
  esac ;;
reboot|halt)
  "$0" unserve
  case "$ROLE" in knfsd*) rpc.nfsd 0 ;; esac
  sync
  umount /data
  mount -o remount,ro /
  key=b
  [ "$1" = halt ] && key=o
  ( sleep 1; echo "$key" > /proc/sysrq-trigger ) > /dev/null 2>&1 &
  ;;
evict)
  sync
  echo 3 > /proc/sys/vm/drop_caches
  if [ "$ROLE" = reference ] && ! ovlnfsd_gone; then
    before=$(log_count "caches dropped")
    kill -USR1 "$(cat /run/ovlnfsd.pid)"
    until_true 300 count_above "caches dropped" "$before" || exit 1
  fi ;;
mount)
  umount -l "/mnt/$2" 2>/dev/null
  mkdir -p "/mnt/$2"
  # On failure, what explains it: the links and the kernel's last words.
  mount -t nfs -o "$5" "$3:$4" "/mnt/$2" || {
    rc=$?
    ip -br addr
    dmesg | tail -n 8
    exit $rc
  } ;;
*)
  echo "role.sh: unknown action $1" >&2
  exit 2 ;;
esac
)SH");
  return *s;
}

std::string RoleEnv(const std::map<std::string, std::string>& vars) {
  std::string out;
  for (const auto& [k, v] : vars) {
    std::string quoted;
    for (char c : v) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += k + "='" + quoted + "'\n";
  }
  return out;
}

}  // namespace ovl::backend::libvirt
