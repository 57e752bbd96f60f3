/* Element types the runner can feed, and the deterministic input generator. */
#ifndef EDGEBENCH_TENSORS_H_
#define EDGEBENCH_TENSORS_H_

#include <stddef.h>
#include <stdint.h>

/* Name used in JSON ("float32", "int8", ...); "type<N>" is never returned:
 * unknown codes give NULL. */
const char *dtype_name(int element_type);
/* Bytes per element, or 0 when the runner cannot feed this type (string,
 * resource, variant, sub-byte types). */
size_t dtype_size(int element_type);

/* Fills `bytes` of `data` for an input of `element_type`, reproducibly from
 * (seed, input_index). The exact recipe is in PROTOCOL.md so the host can
 * regenerate the same inputs. */
void fill_seeded(void *data, size_t bytes, int element_type, uint64_t seed,
                 size_t input_index);

/* FNV-1a 64 over bytes, continuing from `hash` (start with FNV1A64_INIT). */
#define FNV1A64_INIT 0xcbf29ce484222325ULL
uint64_t fnv1a64(uint64_t hash, const void *data, size_t len);

#endif /* EDGEBENCH_TENSORS_H_ */
