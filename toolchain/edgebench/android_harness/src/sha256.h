#ifndef EDGEBENCH_SHA256_H_
#define EDGEBENCH_SHA256_H_

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t h[8];
  uint64_t length; /* bytes hashed so far */
  uint8_t buf[64];
  size_t used;
} sha256_ctx;

void sha256_init(sha256_ctx *ctx);
void sha256_update(sha256_ctx *ctx, const void *data, size_t len);
void sha256_final(sha256_ctx *ctx, char hex[65]);

#endif /* EDGEBENCH_SHA256_H_ */
