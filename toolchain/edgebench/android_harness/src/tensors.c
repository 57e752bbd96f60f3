#include "tensors.h"

#include <string.h>

#include "litert_api.h"

const char *dtype_name(int t) {
  switch (t) {
    case LR_TYPE_FLOAT32: return "float32";
    case LR_TYPE_INT32: return "int32";
    case LR_TYPE_UINT8: return "uint8";
    case LR_TYPE_INT64: return "int64";
    case LR_TYPE_STRING: return "string";
    case LR_TYPE_BOOL: return "bool";
    case LR_TYPE_INT16: return "int16";
    case LR_TYPE_COMPLEX64: return "complex64";
    case LR_TYPE_INT8: return "int8";
    case LR_TYPE_FLOAT16: return "float16";
    case LR_TYPE_FLOAT64: return "float64";
    case LR_TYPE_COMPLEX128: return "complex128";
    case LR_TYPE_UINT64: return "uint64";
    case LR_TYPE_RESOURCE: return "resource";
    case LR_TYPE_VARIANT: return "variant";
    case LR_TYPE_UINT32: return "uint32";
    case LR_TYPE_UINT16: return "uint16";
    case LR_TYPE_INT4: return "int4";
    case LR_TYPE_BFLOAT16: return "bfloat16";
    default: return NULL;
  }
}

size_t dtype_size(int t) {
  switch (t) {
    case LR_TYPE_BOOL:
    case LR_TYPE_INT8:
    case LR_TYPE_UINT8: return 1;
    case LR_TYPE_INT16:
    case LR_TYPE_UINT16:
    case LR_TYPE_FLOAT16:
    case LR_TYPE_BFLOAT16: return 2;
    case LR_TYPE_INT32:
    case LR_TYPE_UINT32:
    case LR_TYPE_FLOAT32: return 4;
    case LR_TYPE_INT64:
    case LR_TYPE_UINT64:
    case LR_TYPE_FLOAT64:
    case LR_TYPE_COMPLEX64: return 8;
    case LR_TYPE_COMPLEX128: return 16;
    default: return 0;
  }
}

static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/* IEEE binary16 bits of a value already on the 2^-10 grid within [-1, 1):
 * such values are exact in half precision, so no rounding is needed. */
static uint16_t half_bits_exact(int32_t k) {
  /* value = k / 1024 - 1 with k in [0, 2048) */
  int32_t m = k - 1024; /* value = m / 1024, m in [-1024, 1024) */
  if (m == 0) return 0;
  uint16_t sign = m < 0 ? 0x8000 : 0;
  uint32_t a = (uint32_t)(m < 0 ? -m : m); /* 1..1024 */
  int e = 0;
  while ((a >> e) > 1) e++; /* a = 2^e * 1.f */
  /* value = a * 2^-10 = 1.f * 2^(e-10) */
  uint32_t exp_field = (uint32_t)(e - 10 + 15);
  uint32_t frac = (a - (1u << e)) << (10 - e);
  return (uint16_t)(sign | exp_field << 10 | frac);
}

void fill_seeded(void *data, size_t bytes, int t, uint64_t seed, size_t index) {
  uint64_t state = seed * 1000003ULL + (uint64_t)index;
  uint8_t *p = (uint8_t *)data;
  size_t esize = dtype_size(t);
  if (esize == 0) {
    memset(data, 0, bytes);
    return;
  }
  size_t n = bytes / esize;
  for (size_t i = 0; i < n; ++i) {
    uint64_t r = splitmix64(&state);
    switch (t) {
      case LR_TYPE_FLOAT32: {
        /* uniform on [-1, 1), 2^-23 grid: exact in float32 */
        float v = (float)((double)(r >> 40) / 8388608.0 - 1.0);
        memcpy(p + i * 4, &v, 4);
        break;
      }
      case LR_TYPE_FLOAT64: {
        double v = (double)(r >> 11) / 4503599627370496.0 - 1.0;
        memcpy(p + i * 8, &v, 8);
        break;
      }
      case LR_TYPE_FLOAT16: {
        uint16_t h = half_bits_exact((int32_t)(r >> 53));
        memcpy(p + i * 2, &h, 2);
        break;
      }
      case LR_TYPE_BFLOAT16: {
        /* top 16 bits of the float32 value on a 2^-7 grid: exact */
        float v = (float)((double)(r >> 56) / 128.0 - 1.0);
        uint32_t bits;
        memcpy(&bits, &v, 4);
        uint16_t b = (uint16_t)(bits >> 16);
        memcpy(p + i * 2, &b, 2);
        break;
      }
      case LR_TYPE_INT8:
      case LR_TYPE_UINT8:
        p[i] = (uint8_t)(r >> 56); /* full range */
        break;
      case LR_TYPE_BOOL:
        p[i] = (uint8_t)(r >> 63);
        break;
      case LR_TYPE_INT16:
      case LR_TYPE_UINT16: {
        uint16_t v = (uint16_t)(r >> 48); /* full range */
        memcpy(p + i * 2, &v, 2);
        break;
      }
      case LR_TYPE_INT32:
      case LR_TYPE_UINT32: {
        /* [0, 99]: wide integer inputs are usually indices or lengths */
        uint32_t v = (uint32_t)((r >> 32) % 100);
        memcpy(p + i * 4, &v, 4);
        break;
      }
      case LR_TYPE_INT64:
      case LR_TYPE_UINT64: {
        uint64_t v = (r >> 32) % 100;
        memcpy(p + i * 8, &v, 8);
        break;
      }
      default: { /* complex: float32 pairs, one draw per component */
        size_t comps = esize / 4;
        for (size_t c = 0; c < comps; ++c) {
          uint64_t rc = c == 0 ? r : splitmix64(&state);
          float v = (float)((double)(rc >> 40) / 8388608.0 - 1.0);
          memcpy(p + i * esize + c * 4, &v, 4);
        }
      }
    }
  }
}

uint64_t fnv1a64(uint64_t hash, const void *data, size_t len) {
  const uint8_t *p = (const uint8_t *)data;
  for (size_t i = 0; i < len; ++i) {
    hash ^= p[i];
    hash *= 0x100000001b3ULL;
  }
  return hash;
}
