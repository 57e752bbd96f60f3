/* edgebench_runner: the model file, loading it, its signature and ops, and the
 * checks for what the runner cannot run. */
#define _GNU_SOURCE
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crash_guard.h"
#include "op_names.h"
#include "procinfo.h"
#include "file_hash.h"
#include "tensors.h"

/* ---------- the file ---------- */

void model_check_file(runner *r) {
  const char *path = r->args->model_path;
  struct stat sb;
  int stat_failed = stat(path, &sb) != 0;
  if (stat_failed || !S_ISREG(sb.st_mode)) {
    fail(r, "load_model", "model_missing", EXIT_MODEL,
         "model file %s %s; push the .tflite file and pass its path with --model", path,
         !stat_failed ? "is not a regular file"
         : errno == ENOENT ? "does not exist" : "cannot be accessed");
  }
  FILE *f = fopen(path, "rb");
  unsigned char head[8] = {0};
  size_t got = f ? fread(head, 1, sizeof(head), f) : 0;
  if (f) fclose(f);
  if (f == NULL) {
    fail(r, "load_model", "model_missing", EXIT_MODEL, "cannot open model file %s: %s", path,
         strerror(errno));
  }
  if (got < 8 || memcmp(head + 4, "TFL3", 4) != 0) {
    fail(r, "load_model", "not_a_model", EXIT_MODEL,
         "%s is not a TFLite flatbuffer: expected the identifier 'TFL3' at byte "
         "4, found %s; check that the file is a converted .tflite model",
         path, got < 8 ? "a file shorter than 8 bytes" : "other bytes");
  }
  file_sha256(path, r->args->hash_cache, r->model_sha, &r->model_bytes, &r->model_sha_cached);
}

/* ---------- loading ---------- */

static void load_from_file(runner *r) {
  const char *path = r->args->model_path;
  char what[PATH_MAX + 128];
  snprintf(what, sizeof(what), "LiteRT crashed while reading %s: the file is probably truncated "
           "or corrupt; push it again or re-convert it", path);
  crash_guard_stage("load_model", "not_a_model", EXIT_MODEL, what);
  stderr_capture cap;
  char said[768];
  stderr_capture_begin(&cap);
  lr_status st = lr_create_model_from_file(&r->api, r->env, path, &r->model);
  stderr_capture_end(&cap, said, sizeof(said));
  if (st == 5 /* kLiteRtStatusErrorUnsupported */) {
    fail(r, "load_model", "unsupported_model", EXIT_MODEL,
         "LiteRT read %s but does not support something in it: %s (%d)%s%s; "
         "re-convert the model without that feature (e.g. stateful LSTM "
         "variable tensors) or benchmark it with another engine",
         path, lr_status_name(st), st, said[0] ? "; library said: " : "", said);
  }
  if (st != LR_OK) {
    fail(r, "load_model", "not_a_model", EXIT_MODEL,
         "LiteRT could not load %s as a model: %s (%d)%s%s; the file may be "
         "truncated or corrupt, or not a .tflite model", path,
         lr_status_name(st), st, said[0] ? "; library said: " : "", said);
  }
}

/* ---------- signature and ops ---------- */

/* Per-tensor scale and zero point when the tensor has them (--check-outputs needs them). */
static void read_quantization(runner *r, lr_tensor tensor, io_tensor *t) {
  int kind = LR_QUANT_UNKNOWN;
  t->quant = LR_QUANT_UNKNOWN;
  if (!r->api.GetQuantizationTypeId || r->api.GetQuantizationTypeId(tensor, &kind) != LR_OK) return;
  t->quant = kind;
  if (kind == LR_QUANT_PER_TENSOR) {
    lr_quant_per_tensor q = {0.0f, 0};
    if (!r->api.GetPerTensorQuantization ||
        r->api.GetPerTensorQuantization(tensor, &q) != LR_OK || !(q.scale > 0.0f)) {
      t->quant = LR_QUANT_UNKNOWN;
      return;
    }
    t->q_scale = q.scale;
    t->q_zero_point = q.zero_point;
  }
}

static void read_tensor(runner *r, lr_tensor tensor, io_tensor *t, const char *what,
                        size_t index) {
  int type_id = -1;
  if (r->api.GetTensorTypeId(tensor, &type_id) != LR_OK || type_id != LR_RANKED_TENSOR) {
    fail(r, "load_model", "input", EXIT_INPUT,
         "%s %zu ('%s') has no fixed rank (unranked tensor); the runner "
         "needs a ranked tensor to size its buffer; re-convert the model "
         "with a fixed-rank signature", what, index, t->name);
  }
  lr_status st = r->api.GetRankedTensorType(tensor, &t->type);
  if (st != LR_OK) {
    fail(r, "load_model", "not_a_model", EXIT_MODEL,
         "cannot read the type of %s %zu ('%s'): LiteRtGetRankedTensorType "
         "returned %s (%d)", what, index, t->name, lr_status_name(st), st);
  }
  if (t->type.layout.rank > LR_MAX_RANK) t->type.layout.rank = LR_MAX_RANK;
  for (unsigned d = 0; d < t->type.layout.rank; ++d) {
    t->model_dims[d] = t->type.layout.dimensions[d];
  }
  if (r->api.GetTensorName) {
    const char *tn = NULL;
    if (r->api.GetTensorName(tensor, &tn) == LR_OK) t->tensor_name = tn;
  }
  read_quantization(r, tensor, t);
}

/* Signature 0's inputs and outputs, with their declared types and shapes. */
static void read_signature(runner *r) {
  size_t n_sig = 0;
  lr_status st = r->api.GetNumModelSignatures(r->model, &n_sig);
  if (st != LR_OK || n_sig == 0) {
    fail(r, "load_model", "not_a_model", EXIT_MODEL,
         "the model has no signature LiteRT can run (LiteRtGetNumModelSignatures: "
         "%s, %zu signatures); re-convert it with a serving signature",
         lr_status_name(st), n_sig);
  }
  if ((st = r->api.GetModelSignature(r->model, 0, &r->sig)) != LR_OK ||
      (st = r->api.GetNumSignatureInputs(r->sig, &r->n_in)) != LR_OK ||
      (st = r->api.GetNumSignatureOutputs(r->sig, &r->n_out)) != LR_OK) {
    fail(r, "load_model", "not_a_model", EXIT_MODEL,
         "cannot read signature 0 of the model: %s (%d)", lr_status_name(st), st);
  }
  r->in = calloc(r->n_in + 1, sizeof(io_tensor));
  r->out_t = calloc(r->n_out + 1, sizeof(io_tensor));
  r->in_bufs = calloc(r->n_in + 1, sizeof(lr_tensor_buffer));
  r->out_bufs = calloc(r->n_out + 1, sizeof(lr_tensor_buffer));
  for (size_t i = 0; i < r->n_in; ++i) {
    lr_tensor tensor = NULL;
    r->api.GetSignatureInputName(r->sig, i, &r->in[i].name);
    st = r->api.GetSignatureInputTensorByIndex
             ? r->api.GetSignatureInputTensorByIndex(r->sig, i, &tensor)
             : r->api.GetSignatureInputTensor(r->sig, r->in[i].name, &tensor);
    if (st != LR_OK) {
      fail(r, "load_model", "not_a_model", EXIT_MODEL,
           "cannot find input %zu of signature 0: %s (%d)", i, lr_status_name(st), st);
    }
    read_tensor(r, tensor, &r->in[i], "input", i);
  }
  for (size_t i = 0; i < r->n_out; ++i) {
    lr_tensor tensor = NULL;
    r->api.GetSignatureOutputName(r->sig, i, &r->out_t[i].name);
    st = r->api.GetSignatureOutputTensorByIndex
             ? r->api.GetSignatureOutputTensorByIndex(r->sig, i, &tensor)
             : r->api.GetSignatureOutputTensor(r->sig, r->out_t[i].name, &tensor);
    if (st != LR_OK) {
      fail(r, "load_model", "not_a_model", EXIT_MODEL,
           "cannot find output %zu of signature 0: %s (%d)", i, lr_status_name(st), st);
    }
    read_tensor(r, tensor, &r->out_t[i], "output", i);
  }
}

/* Ops of the signature's subgraph: optional API, used for Flex detection
 * and the op list of --profile-ops. */
static void read_ops(runner *r) {
  lr_subgraph sub = NULL;
  if (r->api.GetSignatureSubgraph && r->api.GetNumSubgraphOps && r->api.GetSubgraphOp &&
      r->api.GetOpCode && r->api.GetSignatureSubgraph(r->sig, &sub) == LR_OK &&
      r->api.GetNumSubgraphOps(sub, &r->n_ops) == LR_OK) {
    r->op_codes = calloc(r->n_ops + 1, sizeof(int));
    r->op_custom = calloc(r->n_ops + 1, sizeof(char *));
    for (size_t i = 0; i < r->n_ops; ++i) {
      lr_op op = NULL;
      r->op_codes[i] = -1;
      if (r->api.GetSubgraphOp(sub, i, &op) != LR_OK) continue;
      r->api.GetOpCode(op, &r->op_codes[i]);
      if (r->op_codes[i] == LR_OPCODE_CUSTOM && r->api.GetCustomCode) {
        r->api.GetCustomCode(op, &r->op_custom[i]);
      }
    }
  } else {
    r->n_ops = 0;
  }
}

void model_load(runner *r) {
  uint64_t t0 = now_boottime_ns();
  load_from_file(r);
  read_signature(r);
  read_ops(r);
  r->init.load_model = ns_between(t0, now_boottime_ns());
}

/* ---------- what the runner cannot run ---------- */

void model_check_supported(runner *r) {
  char ops[512];
  if (list_custom_ops(r, "Flex", ops, sizeof(ops)) > 0) {
    fail(r, "load_model", "unsupported_ops", EXIT_MODEL,
         "the model uses TensorFlow (Flex, SELECT_TF_OPS) ops: %s; the LiteRT "
         "runtime has no Flex delegate, so re-convert the model with builtin ops "
         "only (no SELECT_TF_OPS)", ops);
  }
  for (size_t i = 0; i < r->n_in; ++i) {
    if (dtype_size(r->in[i].type.element_type) == 0) {
      const char *dt = dtype_name(r->in[i].type.element_type);
      fail(r, "load_model", "input", EXIT_INPUT,
           "input %zu ('%s') has element type %s, which the runner cannot feed "
           "(supported: float32, float16, bfloat16, float64, int8, uint8, int16, "
           "uint16, int32, uint32, int64, uint64, bool, complex); benchmark a "
           "variant of the model that takes numeric inputs",
           i, r->in[i].name, dt ? dt : "unknown");
    }
  }
  if (r->args->n_files > 0 && r->args->n_files != r->n_in) {
    fail(r, "load_model", "input", EXIT_INPUT,
         "%zu --input-file given but the model has %zu inputs; give one file per "
         "input, in input order", r->args->n_files, r->n_in);
  }
}

/* ---------- ops ---------- */

const char *op_type_name(const runner *r, size_t i, char *buf, size_t len) {
  int code = r->op_codes[i];
  if (code == LR_OPCODE_CUSTOM && r->op_custom[i]) {
    snprintf(buf, len, "CUSTOM:%s", r->op_custom[i]);
    return buf;
  }
  if (code >= 0 && code < EDGEBENCH_OP_NAMES_COUNT && kOpNames[code]) return kOpNames[code];
  snprintf(buf, len, "BUILTIN_%d", code);
  return buf;
}

size_t list_custom_ops(const runner *r, const char *prefix, char *buf, size_t len) {
  size_t count = 0, used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < r->n_ops; ++i) {
    if (r->op_codes[i] != LR_OPCODE_CUSTOM) continue;
    const char *name = r->op_custom[i] ? r->op_custom[i] : "?";
    if (prefix && strncmp(name, prefix, strlen(prefix)) != 0) continue;
    if (strstr(buf, name) != NULL) continue; /* keep the list short */
    if (used + strlen(name) + 3 < len) {
      used += (size_t)snprintf(buf + used, len - used, "%s%s", count ? ", " : "", name);
    }
    count++;
  }
  return count;
}
