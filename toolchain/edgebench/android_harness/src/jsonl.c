#include "jsonl.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

void jw_init(jw *w, FILE *f) {
  memset(w, 0, sizeof(*w));
  w->f = f;
}

/* Writes the separator a new array element needs. */
static void jw_value_prefix(jw *w) {
  if (w->depth > 0 && w->is_array[w->depth - 1]) {
    if (!w->first[w->depth - 1]) fputc(',', w->f);
    w->first[w->depth - 1] = false;
  }
}

static void jw_push(jw *w, bool is_array) {
  if (w->depth < JW_MAX_DEPTH) {
    w->is_array[w->depth] = is_array;
    w->first[w->depth] = true;
  }
  w->depth++;
}

void jw_line_begin(jw *w, const char *type) {
  w->depth = 0;
  fputc('{', w->f);
  jw_push(w, false);
  jw_ki64(w, "schema", JSONL_SCHEMA);
  jw_kstr(w, "type", type);
}

void jw_line_end(jw *w) {
  while (w->depth > 0) {
    w->depth--;
    fputc(w->is_array[w->depth] ? ']' : '}', w->f);
  }
  fputc('\n', w->f);
}

void jw_key(jw *w, const char *key) {
  if (!w->first[w->depth - 1]) fputc(',', w->f);
  w->first[w->depth - 1] = false;
  jw_str(w, key);
  fputc(':', w->f);
}

void jw_obj_begin(jw *w) {
  jw_value_prefix(w);
  fputc('{', w->f);
  jw_push(w, false);
}

void jw_obj_end(jw *w) {
  w->depth--;
  fputc('}', w->f);
}

void jw_arr_begin(jw *w) {
  jw_value_prefix(w);
  fputc('[', w->f);
  jw_push(w, true);
}

void jw_arr_end(jw *w) {
  w->depth--;
  fputc(']', w->f);
}

void jw_strn(jw *w, const char *s, size_t n) {
  jw_value_prefix(w);
  fputc('"', w->f);
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
      case '"': fputs("\\\"", w->f); break;
      case '\\': fputs("\\\\", w->f); break;
      case '\n': fputs("\\n", w->f); break;
      case '\r': fputs("\\r", w->f); break;
      case '\t': fputs("\\t", w->f); break;
      default:
        if (c < 0x20 || c == 0x7f) {
          fprintf(w->f, "\\u%04x", c);
        } else {
          /* Bytes >= 0x80 pass through: UTF-8 stays UTF-8; the host reads
           * invalid sequences with errors="replace". */
          fputc(c, w->f);
        }
    }
  }
  fputc('"', w->f);
}

void jw_str(jw *w, const char *s) {
  if (s == NULL) {
    jw_null(w);
    return;
  }
  jw_strn(w, s, strlen(s));
}

void jw_i64(jw *w, int64_t v) {
  jw_value_prefix(w);
  fprintf(w->f, "%" PRId64, v);
}

void jw_u64(jw *w, uint64_t v) {
  jw_value_prefix(w);
  fprintf(w->f, "%" PRIu64, v);
}

void jw_bool(jw *w, bool v) {
  jw_value_prefix(w);
  fputs(v ? "true" : "false", w->f);
}

void jw_null(jw *w) {
  jw_value_prefix(w);
  fputs("null", w->f);
}

void jw_ns_as_us(jw *w, uint64_t ns) {
  jw_value_prefix(w);
  /* Hand-rolled: this is called once per run line, up to millions of times. */
  char buf[32];
  int pos = (int)sizeof(buf);
  buf[--pos] = '\0';
  uint64_t frac = ns % 1000, whole = ns / 1000;
  buf[--pos] = (char)('0' + frac % 10);
  buf[--pos] = (char)('0' + (frac / 10) % 10);
  buf[--pos] = (char)('0' + frac / 100);
  buf[--pos] = '.';
  do {
    buf[--pos] = (char)('0' + whole % 10);
    whole /= 10;
  } while (whole > 0);
  fputs(buf + pos, w->f);
}

void jw_double(jw *w, double v) {
  if (isnan(v) || isinf(v)) {
    jw_null(w);
    return;
  }
  jw_value_prefix(w);
  fprintf(w->f, "%.15g", v);
}

void jw_kstr(jw *w, const char *key, const char *s) { jw_key(w, key); jw_str(w, s); }
void jw_ki64(jw *w, const char *key, int64_t v) { jw_key(w, key); jw_i64(w, v); }
void jw_ku64(jw *w, const char *key, uint64_t v) { jw_key(w, key); jw_u64(w, v); }
void jw_kbool(jw *w, const char *key, bool v) { jw_key(w, key); jw_bool(w, v); }
void jw_knull(jw *w, const char *key) { jw_key(w, key); jw_null(w); }
void jw_kns_as_us(jw *w, const char *key, uint64_t ns) { jw_key(w, key); jw_ns_as_us(w, ns); }
void jw_kdouble(jw *w, const char *key, double v) { jw_key(w, key); jw_double(w, v); }
