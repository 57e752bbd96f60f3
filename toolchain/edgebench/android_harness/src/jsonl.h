/* Tiny JSON-lines writer: one object per line, strings escaped, no allocation.
 * Numbers are written exactly (integers, or nanoseconds as µs with 3 decimals)
 * so the host can recompute every statistic from the lines. */
#ifndef EDGEBENCH_JSONL_H_
#define EDGEBENCH_JSONL_H_

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 16
#define JSONL_SCHEMA 1

typedef struct {
  FILE *f;
  int depth;
  bool is_array[JW_MAX_DEPTH];
  bool first[JW_MAX_DEPTH];
} jw;

void jw_init(jw *w, FILE *f);
/* Starts a line: {"schema":1,"type":"<type>" */
void jw_line_begin(jw *w, const char *type);
void jw_line_end(jw *w); /* closes the line object and writes '\n' */

void jw_key(jw *w, const char *key);
void jw_obj_begin(jw *w);
void jw_obj_end(jw *w);
void jw_arr_begin(jw *w);
void jw_arr_end(jw *w);

void jw_str(jw *w, const char *s); /* NULL writes null */
void jw_strn(jw *w, const char *s, size_t n);
void jw_i64(jw *w, int64_t v);
void jw_u64(jw *w, uint64_t v);
void jw_bool(jw *w, bool v);
void jw_null(jw *w);
void jw_ns_as_us(jw *w, uint64_t ns); /* 1234567 ns -> 1234.567 */
void jw_double(jw *w, double v);      /* %.15g; NaN/inf write null */

/* key + value shorthands */
void jw_kstr(jw *w, const char *key, const char *s);
void jw_ki64(jw *w, const char *key, int64_t v);
void jw_ku64(jw *w, const char *key, uint64_t v);
void jw_kbool(jw *w, const char *key, bool v);
void jw_knull(jw *w, const char *key);
void jw_kns_as_us(jw *w, const char *key, uint64_t ns);
void jw_kdouble(jw *w, const char *key, double v);

#endif /* EDGEBENCH_JSONL_H_ */
