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
modprobe -a virtio_net virtio_console virtio_rng
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
#   wipe N                fresh empty layers: N lowers, upper, work (each on its disk)
#   serve                 mount the overlay of the layers (or start ovlnfsd on them); exit 95:
#                         the kernel (or ovlnfsd) refuses this layer setup, its reason printed
#   export                (knfsd*, ganesha) export the mounted overlay
#   unserve               stop exporting, unmount (or stop ovlnfsd)
#   copy-layers           (stopped) copy every layer to a new ext4 filesystem and make $L the
#                         copy; exit 95 for a lower-only export
#   reboot                unserve, stop daemons, unmount the data disk, then reboot
#   halt                  the same, then power off (the host boots another kernel: upgrade)
#   evict                 drop the guest's caches (and ovlnfsd's)
#   mount NAME ADDR PATH OPTS   (client) NFS mount of ADDR:PATH on /mnt/NAME with OPTS, fresh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
. /payload/role.env
L=/data/layers
# Layer setups (role.env): LAYER_DISKS "<layer>=<device> ...", the layers on a filesystem of
# their own, mounted at /data/fs-<layer> (the layer is a symlink to it; its work dir goes with
# the upper); NO_UPPER=1: a lower-only export; NESTED=1: lower0 is an overlay mount of
# nested-top and nested-bottom (the fixture's layer 0). After copy-layers, $L is a symlink to
# the copy: an ext4 image on the data disk, so that it survives reboots, loop-mounted at $C.
REFUSED=95
C=/data/copy

lowers() { ls -d $L/lower* | sort -V | paste -sd: -; }
disk_of() { for d in $LAYER_DISKS; do [ "${d%%=*}" = "$1" ] && echo "/data/fs-$1"; done; }
mount_layer_disks() {
  for d in $LAYER_DISKS; do
    mkdir -p "/data/fs-${d%%=*}"
    mountpoint -q "/data/fs-${d%%=*}" || mount "/dev/${d#*=}" "/data/fs-${d%%=*}" || return 1
  done
}
umount_layer_disks() { for d in $LAYER_DISKS; do umount "/data/fs-${d%%=*}"; done; }
mount_copy() {
  [ -f $C.img ] || return 0
  modprobe loop  # no udev: /dev/loop-control appears only once the module is in
  mkdir -p $C && mount -o loop $C.img $C
}
umount_copy() { if mountpoint -q $C; then umount $C; fi; }
# make_layer NAME [ON]: the layer dir $L/NAME, on the filesystem of layer ON (NAME's own).
make_layer() {
  fs=$(disk_of "${2:-$1}")
  if [ -n "$fs" ]; then
    mkdir -p "$fs/$1" && ln -s "$fs/$1" "$L/$1"
  else
    mkdir -p "$L/$1"
  fi
}
upper_opts() { [ -n "$NO_UPPER" ] || echo ",upperdir=$L/upper,workdir=$L/work"; }
# As the local backend's (harness/backend/layer_fs.cc): nested-top repeats the directories of
# nested-bottom so that they merge; without an upper, handles need redirect_dir=nofollow.
mount_nested() {
  [ -n "$NESTED" ] || return 0
  mountpoint -q $L/lower0 && return 0
  (cd $L/nested-bottom && find . -mindepth 1 -type d) | while read -r d; do
    mkdir -p "$L/nested-top/$d" && chmod --reference="$L/nested-bottom/$d" "$L/nested-top/$d"
  done
  # The nested overlay's handles name nested-top's directories: a power cut must not lose them
  # (made again, they are other inodes, and every held handle of a merged dir goes STALE).
  sync
  mount -t overlay overlay -o \
    "lowerdir=$L/nested-top:$L/nested-bottom,redirect_dir=nofollow,nfs_export=on" $L/lower0
}
umount_nested() {
  if mountpoint -q $L/lower0; then umount $L/lower0 || umount -l $L/lower0; fi
}
# The kernel says why it refused an overlay only in its log.
refused() { echo "$1"; dmesg | grep 'overlayfs:' | tail -n 5; exit $REFUSED; }

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
started_or_gone() { log_has "ovlnfsd: listening on" || ovlnfsd_gone; }
count_above() { [ "$(log_count "$1")" -gt "$2" ]; }
ganesha_gone() { ! kill -0 "$(cat /run/ganesha.pid 2>/dev/null)" 2>/dev/null; }
# NFS answers, and the export is there (ganesha serves on without it when it cannot export).
ganesha_serves() {
  rpcinfo -T tcp 127.0.0.1 nfs 4 > /dev/null 2>&1 && showmount -e 127.0.0.1 2>/dev/null | grep -q "^$EXPORT "
}


case "$1" in
boot)
  rpcbind
  rpc.statd --no-notify
  if [ "$ROLE" = client ]; then mkdir -p /mnt; exit 0; fi
  mkdir -p /data
  mount /dev/vdc /data || exit 1
  mount_layer_disks || exit 1
  mount_copy || exit 1
  case "$ROLE" in
  knfsd*)
    mkdir -p /etc/nfs.conf.d
    # NFSv3 and v4.x; the v4 lease and grace times of the topology (servers[].nfs4), which
    # rpc.nfsd writes to /proc/fs/nfsd before it starts the threads.
    printf '[nfsd]\nthreads=%s\nvers4=y\nvers4.0=y\nvers4.1=y\nvers4.2=y\nlease-time=%s\ngrace-time=%s\n' \
      "$THREADS" "$NFS4_LEASE" "$NFS4_GRACE" > /etc/nfs.conf.d/ovlnfs.conf
    : > /etc/exports
    mount -t nfsd nfsd /proc/fs/nfsd
    # NFSv4 client records for reclaims after a restart: nfsdcld keeps them on the root disk,
    # which a crash keeps (without a tracker knfsd refuses every reclaim).
    mkdir -p /var/lib/nfs/rpc_pipefs
    mount -t rpc_pipefs sunrpc /var/lib/nfs/rpc_pipefs && nfsdcld
    rpc.mountd ;;  # nfsd threads start at export (below)
  ganesha)
    mkdir -p /data/ganesha-recovery  # its NFSv4 client records, kept across restarts
    # FSAL_VFS finds the exported filesystem in /etc/mtab, which the image does not have.
    [ -e /etc/mtab ] || ln -s /proc/self/mounts /etc/mtab ;;
  esac ;;
wipe)
  umount_nested
  rm -rf $L
  umount_copy
  rm -rf $C $C.img
  for d in $LAYER_DISKS; do rm -rf "/data/fs-${d%%=*}"/*; done
  mkdir -p $L
  i=0
  while [ $i -lt "$2" ]; do make_layer lower$i; i=$((i + 1)); done
  if [ -n "$NESTED" ] && [ "$2" -gt 0 ]; then
    rm -rf $L/lower0
    mkdir -p $L/lower0 $L/nested-top $L/nested-bottom
  fi
  if [ -n "$NO_UPPER" ]; then
    mkdir -p $L/work  # ovlnfsd's state
  else
    make_layer upper && make_layer work upper
  fi
  sync ;;
serve)
  mount_nested || refused "the nested lower overlay: mount failed"
  case "$ROLE" in
  knfsd|ganesha)
    mkdir -p "$EXPORT"
    mount -t overlay overlay -o "lowerdir=$(lowers)$(upper_opts)${OVL_OPTS:+,$OVL_OPTS}" "$EXPORT" \
      || refused "mount -t overlay -o lowerdir=$(lowers)$(upper_opts)${OVL_OPTS:+,$OVL_OPTS}: failed" ;;
  knfsd-fuse)
    mkdir -p "$EXPORT"
    modprobe fuse  # no udev: /dev/fuse appears only once the module is in
    fuse-overlayfs -o "lowerdir=$(lowers),upperdir=$L/upper,workdir=$L/work" "$EXPORT" || exit 1 ;;
  reference)
    : > /run/ovlnfsd.log
    # shellcheck disable=SC2086
    upper=
    [ -n "$NO_UPPER" ] || upper="--upper $L/upper"
    # shellcheck disable=SC2086
    /payload/ovlnfsd --lower "$(lowers)" $upper --work $L/work \
      --listen 0.0.0.0:2049 --export-path "$EXPORT" --allow 10.200.0.0/16 --squash none \
      --rpcbind --threads "$THREADS" --lease-seconds "$NFS4_LEASE" --grace-seconds "$NFS4_GRACE" \
      $OVLNFSD_FLAGS >> /run/ovlnfsd.log 2>&1 &
    echo $! > /run/ovlnfsd.pid
    until_true 600 started_or_gone
    log_has "ovlnfsd: listening on" && exit 0
    cat /run/ovlnfsd.log
    log_has "ovlnfsd: unsupported layer setup" && exit $REFUSED
    exit 1 ;;
  esac ;;
export)
  if [ "$ROLE" = ganesha ]; then
    : > /run/ganesha.log
    ganesha.nfsd -f /payload/ganesha.conf -L /run/ganesha.log -p /run/ganesha.pid
    until_true 600 ganesha_serves && exit 0
    tail -n 20 /run/ganesha.log
    exit 1
  fi
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
  ganesha)
    if ! ganesha_gone; then
      kill -TERM "$(cat /run/ganesha.pid)"
      until_true 300 ganesha_gone || kill -KILL "$(cat /run/ganesha.pid)"
    fi
    if mountpoint -q "$EXPORT"; then
      until_true 50 umount "$EXPORT" || umount -l "$EXPORT"
    fi ;;
  reference)
    if ! ovlnfsd_gone; then
      kill -TERM "$(cat /run/ovlnfsd.pid)"
      until_true 300 ovlnfsd_gone || { kill -KILL "$(cat /run/ovlnfsd.pid)"; exit 1; }
    fi ;;
  esac
  umount_nested ;;
copy-layers)
  [ -n "$NO_UPPER" ] && { echo "a lower-only export"; exit $REFUSED; }
  [ -e $C.img ] && { echo "the layers were copied already"; exit 1; }
  # One cp for all layers keeps the hard links between them (the index's to the upper); -H
  # follows the layers that are symlinks to their own disks.
  truncate -s 256M $C.img && mkfs.ext4 -F -q $C.img && mount_copy && cp -a -H $L/* $C/ || exit 1
  rm -rf $L && ln -s $C $L && sync ;;
reboot|halt)
  "$0" unserve
  case "$ROLE" in knfsd*) rpc.nfsd 0 ;; esac
  sync
  umount_copy
  umount_layer_disks
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
