/* edgebench_runner: --check-outputs. The reference runs in a forked child so that
 * a reference that fails to load, or crashes the library, cannot spoil the run
 * already measured, and its memory does not count in the resources line. The
 * child hands the parent, through a shared anonymous mapping, the input values
 * both models are fed (as reals) and the reference's outputs (as reals); the
 * parent computes the figures. Quantized tensors (per-tensor scale and zero
 * point) are fed and read as the reals they stand for, so an int8 variant is
 * compared with its float parent on the same real inputs. */
#define _GNU_SOURCE
#include "agreement.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buffers.h"
#include "compile.h"
#include "crash_guard.h"
#include "model.h"
#include "shapes.h"
#include "tensors.h"

typedef struct {
  int done;         /* 1: the reference ran and the arrays below are filled */
  int mismatch;     /* 1: the reference loaded, but its signature differs from the model's */
  char reason[3072]; /* why not, when done == 0 */
  char ref_sha[65];
} shared_header;

typedef struct {
  size_t elements;
  uint64_t nan_count, inf_count, ref_nan_count, ref_inf_count;
  double cosine, max_abs_diff, l2_norm, ref_l2_norm; /* NAN: not defined */
} figures;

static size_t elements(const io_tensor *t) {
  size_t es = dtype_size(t->type.element_type);
  return es ? t->bytes / es : 0;
}

static int is_quantized(const io_tensor *t) {
  int e = t->type.element_type;
  return (e == LR_TYPE_INT8 || e == LR_TYPE_UINT8 || e == LR_TYPE_INT16) && t->quant == LR_QUANT_PER_TENSOR;
}

/* Inputs both sides can be fed the same real values. */
static int is_real_input(const io_tensor *t) {
  return t->type.element_type == LR_TYPE_FLOAT32 || is_quantized(t);
}

/* Outputs read as reals (float32/float16 or dequantized); other element types
 * compare as numbers only against the same element type. */
static int is_real_output(const io_tensor *t) {
  return t->type.element_type == LR_TYPE_FLOAT32 || t->type.element_type == LR_TYPE_FLOAT16 ||
         is_quantized(t);
}

static float half_to_float(uint16_t h) {
  int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  float v = e == 0 ? ldexpf((float)m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexpf((float)(m | 0x400), e - 25);
  return (h & 0x8000) ? -v : v;
}

static double read_value(const io_tensor *t, const void *data, size_t i) {
  const unsigned char *p = data;
  double q;
  switch (t->type.element_type) {
    case LR_TYPE_FLOAT32: { float v; memcpy(&v, p + i * 4, 4); return v; }
    case LR_TYPE_FLOAT64: { double v; memcpy(&v, p + i * 8, 8); return v; }
    case LR_TYPE_FLOAT16: { uint16_t h; memcpy(&h, p + i * 2, 2); return half_to_float(h); }
    case LR_TYPE_INT8: q = (int8_t)p[i]; break;
    case LR_TYPE_UINT8: q = p[i]; break;
    case LR_TYPE_BOOL: q = p[i] != 0; break;
    case LR_TYPE_INT16: { int16_t v; memcpy(&v, p + i * 2, 2); q = v; break; }
    case LR_TYPE_UINT16: { uint16_t v; memcpy(&v, p + i * 2, 2); q = v; break; }
    case LR_TYPE_INT32: { int32_t v; memcpy(&v, p + i * 4, 4); q = v; break; }
    case LR_TYPE_UINT32: { uint32_t v; memcpy(&v, p + i * 4, 4); q = v; break; }
    case LR_TYPE_INT64: { int64_t v; memcpy(&v, p + i * 8, 8); q = (double)v; break; }
    case LR_TYPE_UINT64: { uint64_t v; memcpy(&v, p + i * 8, 8); q = (double)v; break; }
    default: return NAN;
  }
  return is_quantized(t) ? (q - (double)t->q_zero_point) * t->q_scale : q;
}

/* The integer a quantized tensor stores for real v (rounded, clamped to its range). */
static long quantize(const io_tensor *t, double v) {
  int e = t->type.element_type;
  long lo = e == LR_TYPE_INT8 ? -128 : e == LR_TYPE_UINT8 ? 0 : -32768;
  long hi = e == LR_TYPE_INT8 ? 127 : e == LR_TYPE_UINT8 ? 255 : 32767;
  double q = nearbyint(v / t->q_scale) + (double)t->q_zero_point;
  return q < lo ? lo : q > hi ? hi : (long)q;
}

/* The real a tensor actually receives when fed v (quantization rounds it). */
static double as_fed(const io_tensor *t, double v) {
  return is_quantized(t) ? ((double)quantize(t, v) - (double)t->q_zero_point) * t->q_scale : v;
}

static void write_real(const io_tensor *t, void *data, size_t i, double v) {
  unsigned char *p = data;
  if (t->type.element_type == LR_TYPE_FLOAT32) {
    float f = (float)v;
    memcpy(p + i * 4, &f, 4);
  } else if (t->type.element_type == LR_TYPE_INT16) {
    int16_t q = (int16_t)quantize(t, v);
    memcpy(p + i * 2, &q, 2);
  } else {
    p[i] = (unsigned char)(t->type.element_type == LR_TYPE_INT8 ? (unsigned char)(int8_t)quantize(t, v)
                                                                 : (unsigned char)quantize(t, v));
  }
}

/* Writes the inputs of `r` from the reals in `values` (inputs with is_real set) or
 * the seeded recipe of their own element type. Returns 0, or -1 with why. */
static int feed(runner *r, const unsigned char *is_real, float *const *values, char *why, size_t len) {
  for (size_t i = 0; i < r->n_in; ++i) {
    io_tensor *t = &r->in[i];
    void *ptr = NULL;
    lr_status st = r->api.LockTensorBuffer(t->buffer, &ptr, LR_LOCK_WRITE);
    if (st != LR_OK || ptr == NULL) {
      snprintf(why, len, "cannot map input %zu ('%s') for writing: %s (%d)", i, t->name,
               lr_status_name(st), st);
      return -1;
    }
    if (is_real[i]) {
      for (size_t k = 0; k < elements(t); ++k) write_real(t, ptr, k, values[i][k]);
    } else {
      fill_seeded(ptr, t->bytes, t->type.element_type, r->args->input_seed, i);
    }
    r->api.UnlockTensorBuffer(t->buffer);
  }
  return 0;
}

/* Runs r once and reads output j as reals into out[j]. Returns 0, or -1 with why. */
static int run_and_read(runner *r, float **out, char *why, size_t len) {
  lr_status st = r->api.RunCompiledModel(r->cm, 0, r->n_in, r->in_bufs, r->n_out, r->out_bufs);
  if (st != LR_OK) {
    snprintf(why, len, "LiteRtRunCompiledModel failed: %s (%d)", lr_status_name(st), st);
    return -1;
  }
  for (size_t j = 0; j < r->n_out; ++j) {
    io_tensor *t = &r->out_t[j];
    void *ptr = NULL;
    st = r->api.LockTensorBuffer(t->buffer, &ptr, LR_LOCK_READ);
    if (st != LR_OK || ptr == NULL) {
      snprintf(why, len, "cannot map output %zu ('%s') for reading: %s (%d)", j, t->name,
               lr_status_name(st), st);
      return -1;
    }
    for (size_t k = 0; k < elements(t); ++k) out[j][k] = (float)read_value(t, ptr, k);
    r->api.UnlockTensorBuffer(t->buffer);
  }
  return 0;
}

/* Which inputs take reals, and whether the reference's signature matches the model's. */
static int match_signatures(const runner *m, const runner *ref, unsigned char *is_real, char *why, size_t len) {
  if (m->n_in != ref->n_in || m->n_out != ref->n_out) {
    snprintf(why, len, "different signatures: the model has %zu inputs and %zu outputs, the reference "
             "%zu and %zu", m->n_in, m->n_out, ref->n_in, ref->n_out);
    return -1;
  }
  for (int side = 0; side < 2; ++side) {
    size_t n = side == 0 ? m->n_in : m->n_out;
    for (size_t i = 0; i < n; ++i) {
      const io_tensor *a = side == 0 ? &m->in[i] : &m->out_t[i];
      const io_tensor *b = side == 0 ? &ref->in[i] : &ref->out_t[i];
      const char *what = side == 0 ? "input" : "output";
      const char *da = dtype_name(a->type.element_type), *db = dtype_name(b->type.element_type);
      if (elements(a) != elements(b)) {
        snprintf(why, len, "different signatures: %s %zu ('%s') has %zu elements in the model, %zu in the "
                 "reference ('%s')", what, i, a->name, elements(a), elements(b), b->name);
        return -1;
      }
      int real = side == 0 ? is_real_input(a) && is_real_input(b) : is_real_output(a) && is_real_output(b);
      if (!real && a->type.element_type != b->type.element_type) {
        snprintf(why, len, "different signatures: %s %zu ('%s') is %s%s in the model and %s%s in the "
                 "reference; only float32, float16 and per-tensor quantized int8/uint8/int16 tensors "
                 "compare across element types", what, i, a->name, da ? da : "?",
                 a->quant == LR_QUANT_PER_TENSOR ? " (quantized)" : "", db ? db : "?",
                 b->quant == LR_QUANT_PER_TENSOR ? " (quantized)" : "");
        return -1;
      }
      if (side == 0) is_real[i] = (unsigned char)real;
    }
  }
  return 0;
}

/* The child: load, compile and run the reference on CPU; never returns. */
__attribute__((noreturn)) static void reference_child(runner *m, shared_header *h, unsigned char *is_real,
                                                      float **in_values, float **ref_out) {
  static runner ref;
  static runner_args args;
  args = *m->args;
  args.model_path = m->args->reference_path ? m->args->reference_path : m->args->model_path;
  args.accelerator = ACCEL_CPU;
  args.n_files = 0;
  args.profile_ops = 0;
  ref = *m;  /* library, environment; the model fields are replaced below */
  ref.args = &args;
  ref.out = fopen("/dev/null", "w");
  if (ref.out == NULL) ref.out = stderr;
  jw_init(&ref.w, ref.out);
  crash_guard_install(fileno(ref.out)); /* a crash: the parent sees the signal */
  ref.fail_note = h->reason;
  ref.fail_note_len = sizeof(h->reason);
  ref.model = NULL;
  ref.cm = NULL;
  ref.n_ops = 0;
  model_check_file(&ref);
  memcpy(h->ref_sha, ref.model_sha, sizeof(h->ref_sha));
  model_load(&ref);
  model_check_supported(&ref);
  char why[2048];
  if (ref.n_in != m->n_in) {
    snprintf(why, sizeof(why), "different signatures: the model has %zu inputs, the reference %zu",
             m->n_in, ref.n_in);
    goto refused;
  }
  /* A dynamic reference input runs at the shape the model's ran, input by input (names may
   * differ); static ones stay as declared and must hold as many elements as the model's. */
  args.n_shapes = 0;
  for (size_t i = 0; i < ref.n_in && args.n_shapes < RUNNER_MAX_INPUTS; ++i) {
    const io_tensor *t = &m->in[i];
    int dynamic = 0;
    for (unsigned d = 0; d < ref.in[i].type.layout.rank; ++d) dynamic |= ref.in[i].model_dims[d] < 0;
    if (!dynamic || ref.in[i].type.layout.rank != t->type.layout.rank) continue;
    input_shape *s = &args.shapes[args.n_shapes++];
    memset(s, 0, sizeof(*s));
    s->index = i;
    s->rank = t->type.layout.rank;
    for (unsigned d = 0; d < s->rank && d < 8; ++d) s->dims[d] = t->type.layout.dimensions[d];
  }
  match_input_shapes(&ref);
  compile_with_fallback(&ref);
  buffers_prepare(&ref);
  if (match_signatures(m, &ref, is_real, why, sizeof(why)) != 0) goto refused;
  /* The reals both models receive: the seeded float32 recipe, as quantization rounds it. */
  for (size_t i = 0; i < m->n_in; ++i) {
    if (!is_real[i]) continue;
    fill_seeded(in_values[i], elements(&m->in[i]) * sizeof(float), LR_TYPE_FLOAT32, args.input_seed, i);
    for (size_t k = 0; k < elements(&m->in[i]); ++k) {
      in_values[i][k] = (float)as_fed(&ref.in[i], as_fed(&m->in[i], in_values[i][k]));
    }
  }
  if (feed(&ref, is_real, in_values, why, sizeof(why)) != 0 || run_and_read(&ref, ref_out, why, sizeof(why)) != 0) {
    goto refused;
  }
  h->done = 1;
  _exit(0);
refused:
  h->mismatch = 1;
  snprintf(h->reason, sizeof(h->reason), "%s", why);
  _exit(0);
}

static figures compare(const float *a, const float *b, size_t n) {
  figures f = {n, 0, 0, 0, 0, NAN, NAN, NAN, NAN};
  double dot = 0, na = 0, nb = 0, max_diff = 0;
  size_t pairs = 0;
  for (size_t k = 0; k < n; ++k) {
    if (isnan(a[k])) f.nan_count++;
    else if (isinf(a[k])) f.inf_count++;
    if (isnan(b[k])) f.ref_nan_count++;
    else if (isinf(b[k])) f.ref_inf_count++;
    if (!isfinite(a[k]) || !isfinite(b[k])) continue;
    double x = a[k], y = b[k];
    dot += x * y;
    na += x * x;
    nb += y * y;
    if (fabs(x - y) > max_diff) max_diff = fabs(x - y);
    pairs++;
  }
  if (pairs > 0) {
    f.max_abs_diff = max_diff;
    f.l2_norm = sqrt(na);
    f.ref_l2_norm = sqrt(nb);
    if (na > 0 && nb > 0) f.cosine = dot / (sqrt(na) * sqrt(nb));
  }
  return f;
}

static void write_line(runner *r, const char *ref_path, const char *ref_sha, const char *reason,
                       const figures *f) {
  jw_line_begin(&r->w, "output_agreement");
  jw_kstr(&r->w, "status", reason ? "not_checked" : "checked");
  jw_kstr(&r->w, "reason", reason);
  jw_kstr(&r->w, "reference_model_path", ref_path);
  jw_kstr(&r->w, "reference_model_sha256", ref_sha && ref_sha[0] ? ref_sha : NULL);
  jw_kbool(&r->w, "reference_is_model", r->args->reference_path == NULL);
  jw_kstr(&r->w, "reference_accelerator", "cpu");
  jw_ku64(&r->w, "input_seed", r->args->input_seed);
  jw_key(&r->w, "outputs");
  jw_arr_begin(&r->w);
  for (size_t j = 0; f != NULL && j < r->n_out; ++j) {
    jw_obj_begin(&r->w);
    jw_ku64(&r->w, "index", j);
    jw_kstr(&r->w, "name", r->out_t[j].name);
    jw_ku64(&r->w, "elements", f[j].elements);
    jw_kdouble(&r->w, "cosine", f[j].cosine);
    jw_kdouble(&r->w, "max_abs_diff", f[j].max_abs_diff);
    jw_ku64(&r->w, "nan_count", f[j].nan_count);
    jw_ku64(&r->w, "inf_count", f[j].inf_count);
    jw_ku64(&r->w, "reference_nan_count", f[j].ref_nan_count);
    jw_ku64(&r->w, "reference_inf_count", f[j].ref_inf_count);
    jw_kdouble(&r->w, "l2_norm", f[j].l2_norm);
    jw_kdouble(&r->w, "reference_l2_norm", f[j].ref_l2_norm);
    jw_obj_end(&r->w);
  }
  jw_arr_end(&r->w);
  jw_line_end(&r->w);
  fflush(r->out);
}

void agreement_check(runner *r) {
  const char *ref_path = r->args->reference_path ? r->args->reference_path : r->args->model_path;
  size_t n_in_el = 0, n_out_el = 0;
  for (size_t i = 0; i < r->n_in; ++i) n_in_el += elements(&r->in[i]);
  for (size_t j = 0; j < r->n_out; ++j) n_out_el += elements(&r->out_t[j]);
  size_t size = sizeof(shared_header) + r->n_in + 16 + (n_in_el + n_out_el) * sizeof(float);
  unsigned char *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  float **in_values = calloc(r->n_in + 1, sizeof(float *));
  float **ref_out = calloc(r->n_out + 1, sizeof(float *));
  float **own_out = calloc(r->n_out + 1, sizeof(float *));
  figures *f = calloc(r->n_out + 1, sizeof(figures));
  char why[4800] = "";
  if (map == MAP_FAILED || !in_values || !ref_out || !own_out || !f) {
    write_line(r, ref_path, NULL, "the runner could not allocate memory for the comparison", NULL);
    return;
  }
  shared_header *h = (shared_header *)map;
  unsigned char *is_real = map + sizeof(shared_header);
  float *cursor = (float *)(map + ((sizeof(shared_header) + r->n_in + 15) / 16) * 16);
  for (size_t i = 0; i < r->n_in; ++i) { in_values[i] = cursor; cursor += elements(&r->in[i]); }
  for (size_t j = 0; j < r->n_out; ++j) {
    ref_out[j] = cursor;
    cursor += elements(&r->out_t[j]);
    own_out[j] = malloc(elements(&r->out_t[j]) * sizeof(float) + 1);
    if (own_out[j] == NULL) {
      write_line(r, ref_path, NULL, "the runner could not allocate memory for the comparison", NULL);
      return;
    }
  }
  fflush(NULL); /* the child must not write the parent's buffered lines again */
  pid_t pid = fork();
  if (pid < 0) {
    write_line(r, ref_path, NULL, "fork() failed: the reference could not be started", NULL);
    return;
  }
  if (pid == 0) reference_child(r, h, is_real, in_values, ref_out);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {}
  if (!h->done) {
    if (WIFSIGNALED(status)) {
      snprintf(why, sizeof(why), "the reference %s crashed the runtime library (signal %d) while it was "
               "loaded or run on CPU", ref_path, WTERMSIG(status));
    } else if (h->mismatch) {
      snprintf(why, sizeof(why), "the reference %s cannot be compared with the model: %s", ref_path, h->reason);
    } else {
      snprintf(why, sizeof(why), "the reference %s could not run on CPU: %s", ref_path,
               h->reason[0] ? h->reason : "its process ended without saying why");
    }
    write_line(r, ref_path, h->ref_sha, why, NULL);
    return;
  }
  char run_why[2048];
  if (feed(r, is_real, in_values, run_why, sizeof(run_why)) != 0 ||
      run_and_read(r, own_out, run_why, sizeof(run_why)) != 0) {
    snprintf(why, sizeof(why), "the model's own run on the comparison inputs failed: %s", run_why);
    write_line(r, ref_path, h->ref_sha, why, NULL);
    return;
  }
  for (size_t j = 0; j < r->n_out; ++j) f[j] = compare(own_out[j], ref_out[j], elements(&r->out_t[j]));
  write_line(r, ref_path, h->ref_sha, NULL, f);
}
