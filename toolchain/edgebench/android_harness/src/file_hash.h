/* sha256 of a file the runner loads, optionally remembered in a stat-validated cache. */
#ifndef EDGEBENCH_FILE_HASH_H_
#define EDGEBENCH_FILE_HASH_H_

#include <stdint.h>

/* The sha256 of the file at path (hex, 64 chars + NUL) and its size. cache_dir (--hash-cache, may be
   NULL) keeps each hash with the file's device, inode, size, mtime and ctime; a later call takes it
   from there only while all five are unchanged (any write or metadata change moves ctime, which no
   user-space call can set back). A file changed in the last FILE_HASH_SETTLE_S seconds is hashed but
   not remembered: its ctime could still be shared by a change that follows (git's "racily clean").
   *from_cache (may be NULL) says which it was. Returns 0, or -1 (errno set) when the file cannot be
   read; an unusable cache only costs the hashing. */
#define FILE_HASH_SETTLE_S 2
int file_sha256(const char *path, const char *cache_dir, char hex[65], uint64_t *size_out, int *from_cache);

#endif /* EDGEBENCH_FILE_HASH_H_ */
