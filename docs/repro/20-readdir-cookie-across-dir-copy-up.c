// docs/findings.md #20: a READDIR cookie of a lower-only overlay directory reads as its end once
// the directory is copied up. Lists a page of DIR the way a stateless NFS server does (open,
// seek to the cookie, read, close), creates 16 names in DIR (which copies it up), and resumes
// from the cookie: an overlay prints 0 names, expected: the 9 names not listed yet and the new
// ones.
//
//   gcc -o rd 20-readdir-cookie-across-dir-copy-up.c
//   mkdir -p l/d u w m; for i in 00 01 02 03 04 05 06 07 08 09 10 11; do echo x > l/d/f$i; done
//   mount -t overlay ovl -o lowerdir=$PWD/l,upperdir=$PWD/u,workdir=$PWD/w m
//   ./rd m/d; umount m
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
struct d64 { unsigned long long ino; long long off; unsigned short reclen; unsigned char type; char name[]; };
static long long page(const char* dir, long long cookie, int max) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  lseek(fd, cookie, SEEK_SET);
  char buf[65536];
  long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
  long long last = cookie; int got = 0;
  for (long i = 0; i < n && got < max;) {
    struct d64* d = (struct d64*)(buf + i);
    if (strcmp(d->name, ".") && strcmp(d->name, "..")) { printf(" %s", d->name); got++; }
    last = d->off; i += d->reclen;
  }
  printf("  (cookie %lld, %d names)\n", last, got);
  close(fd);
  return last;
}
int main(int argc, char** argv) {
  const char* d = argv[1];
  long long c = page(d, 0, 3);
  char p[4096];
  for (int i = 0; i < 16; i++) { snprintf(p, sizeof p, "%s/new%02d", d, i); close(open(p, O_CREAT | O_WRONLY, 0644)); }
  c = page(d, c, 100);
  return 0;
}
