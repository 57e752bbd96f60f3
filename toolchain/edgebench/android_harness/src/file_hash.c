/* sha256 of the runner's library and model, with a stat-validated cache (--hash-cache DIR).
   Hashing libLiteRt.so (~8 MB) took ~20-40 ms of every run, most of a small model's fixed cost. */
#define _GNU_SOURCE
#include "file_hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"

/* One entry per file, named by a hash of its path: "v1 DEV INO SIZE MTIME.NS CTIME.NS SHA256 PATH\n". */
static void entry_path(const char *cache_dir, const char *path, char *out, size_t len) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)path; *p; ++p) h = (h ^ *p) * 1099511628211ULL;
  snprintf(out, len, "%s/%016llx", cache_dir, (unsigned long long)h);
}

/* The entry's text around the hash: "v1 DEV INO SIZE MTIME.NS CTIME.NS " and " PATH\n". */
static int entry_prefix(const struct stat *st, char *out, size_t len) {
  int n = snprintf(out, len, "v1 %llu %llu %lld %lld.%09ld %lld.%09ld ", (unsigned long long)st->st_dev,
                   (unsigned long long)st->st_ino, (long long)st->st_size, (long long)st->st_mtim.tv_sec,
                   (long)st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec, (long)st->st_ctim.tv_nsec);
  return n > 0 && (size_t)n < len ? n : -1;
}

static int is_hex64(const char *s) {
  for (size_t i = 0; i < 64; ++i) {
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
  }
  return 1;
}

/* The cached hash when the entry names this path with this exact stat. */
static int cached(const char *entry, const char *path, const struct stat *st, char hex[65]) {
  char prefix[160], got[4352];
  int p = entry_prefix(st, prefix, sizeof(prefix));
  size_t path_len = strlen(path);
  if (p < 0) return 0;
  int fd = open(entry, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t m = read(fd, got, sizeof(got));
  close(fd);
  const char *h = got + p, *tail = h + 64;
  if (m != (ssize_t)((size_t)p + 64 + 1 + path_len + 1) || memcmp(got, prefix, (size_t)p) != 0 || !is_hex64(h) ||
      tail[0] != ' ' || memcmp(tail + 1, path, path_len) != 0 || tail[1 + path_len] != '\n') {
    return 0;
  }
  memcpy(hex, h, 64);
  hex[64] = '\0';
  return 1;
}

/* Filesystems whose ctime only the kernel sets, at nanosecond (or 1 s) resolution. FAT and exFAT derive it
   from mtime, which user space can set; FUSE (Android's /sdcard) and network filesystems report what the
   other side says. Anywhere else the runner hashes every time. */
static int ctime_is_trustworthy(int fd) {
  static const unsigned long kKnown[] = {
      0xEF53UL,     /* ext2/3/4 */
      0xF2F52010UL, /* f2fs */
      0x58465342UL, /* xfs */
      0x9123683EUL, /* btrfs */
      0x01021994UL, /* tmpfs */
      0x794C7630UL, /* overlayfs */
      0x2FC12FC1UL, /* zfs */
  };
  struct statfs fs;
  if (fstatfs(fd, &fs) != 0) return 0;
  for (size_t i = 0; i < sizeof(kKnown) / sizeof(kKnown[0]); ++i) {
    if ((unsigned long)fs.f_type == kKnown[i]) return 1;
  }
  return 0;
}

/* read_started: CLOCK_REALTIME when the file's stat was taken, before it was read. */
static void remember(const char *cache_dir, const char *entry, const char *path, const struct stat *st,
                     const char *hex, const struct timespec *read_started) {
  if (read_started->tv_sec - st->st_ctim.tv_sec < FILE_HASH_SETTLE_S) return;
  char text[4352], tmp[4240];
  int p = entry_prefix(st, text, sizeof(text));
  if (p < 0) return;
  int n = snprintf(text + p, sizeof(text) - (size_t)p, "%s %s\n", hex, path);
  if (n < 0 || (size_t)n >= sizeof(text) - (size_t)p) return;
  n += p;
  mkdir(cache_dir, 0700); /* EEXIST is fine; any other failure shows at open */
  snprintf(tmp, sizeof(tmp), "%s.XXXXXX", entry);
  int fd = mkstemp(tmp); /* 0600; a unique name even where two hosts share the folder */
  if (fd < 0) return;
  int ok = write(fd, text, (size_t)n) == n;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp, entry) != 0) unlink(tmp); /* readers see a whole entry or none */
}

static int same_file_state(const struct stat *a, const struct stat *b) {
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
         a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int file_sha256(const char *path, const char *cache_dir, char hex[65], uint64_t *size_out, int *from_cache) {
  if (from_cache) *from_cache = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat before, after;
  struct timespec read_started;
  char entry[4200];
  int use_cache = cache_dir != NULL && cache_dir[0] != '\0' && strlen(cache_dir) < 4000 && strlen(path) < 4000 &&
                  clock_gettime(CLOCK_REALTIME, &read_started) == 0 && fstat(fd, &before) == 0 &&
                  ctime_is_trustworthy(fd);
  if (use_cache) {
    entry_path(cache_dir, path, entry, sizeof(entry));
    if (cached(entry, path, &before, hex)) {
      close(fd);
      if (size_out) *size_out = (uint64_t)before.st_size;
      if (from_cache) *from_cache = 1;
      return 0;
    }
  }
  sha256_ctx ctx;
  sha256_init(&ctx);
  unsigned char chunk[1 << 16];
  ssize_t n;
  while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      close(fd);
      errno = saved;
      return -1;
    }
    sha256_update(&ctx, chunk, (size_t)n);
  }
  uint64_t size = ctx.length; /* before sha256_final, which pads */
  sha256_final(&ctx, hex);
  /* Remembered only when nothing changed the file while it was read. */
  if (use_cache && fstat(fd, &after) == 0 && same_file_state(&before, &after) && (uint64_t)after.st_size == size) {
    remember(cache_dir, entry, path, &after, hex, &read_started);
  }
  close(fd);
  if (size_out) *size_out = size;
  return 0;
}
