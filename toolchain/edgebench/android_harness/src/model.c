/* edgebench_runner: reading the model, compiling it, making and filling its buffers. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "litert_api.h"
#include "procinfo.h"
#include "runner.h"
#include "op_names.h"
#include "tensors.h"

/* ---------- model inspection ---------- */

static int read_tensor(runner *r, lr_tensor tensor, io_tensor *t, const char *what,
                       size_t index) {
  int type_id = -1;
  if (r->api.GetTensorTypeId(tensor, &type_id) != LR_OK || type_id != LR_RANKED_TENSOR) {
    return fail(r, "load_model", "input", EXIT_INPUT,
                "%s %zu ('%s') has no fixed rank (unranked tensor); the runner "
                "needs a ranked tensor to size its buffer; re-convert the model "
                "with a fixed-rank signature", what, index, t->name);
  }
  lr_status st = r->api.GetRankedTensorType(tensor, &t->type);
  if (st != LR_OK) {
    return fail(r, "load_model", "not_a_model", EXIT_MODEL,
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
  return 0;
}

int inspect_model(runner *r) {
  size_t n_sig = 0;
  lr_status st = r->api.GetNumModelSignatures(r->model, &n_sig);
  if (st != LR_OK || n_sig == 0) {
    return fail(r, "load_model", "not_a_model", EXIT_MODEL,
                "the model has no signature LiteRT can run (LiteRtGetNumModelSignatures: "
                "%s, %zu signatures); re-convert it with a serving signature",
                lr_status_name(st), n_sig);
  }
  if ((st = r->api.GetModelSignature(r->model, 0, &r->sig)) != LR_OK ||
      (st = r->api.GetNumSignatureInputs(r->sig, &r->n_in)) != LR_OK ||
      (st = r->api.GetNumSignatureOutputs(r->sig, &r->n_out)) != LR_OK) {
    return fail(r, "load_model", "not_a_model", EXIT_MODEL,
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
      return fail(r, "load_model", "not_a_model", EXIT_MODEL,
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
      return fail(r, "load_model", "not_a_model", EXIT_MODEL,
                  "cannot find output %zu of signature 0: %s (%d)", i, lr_status_name(st), st);
    }
    read_tensor(r, tensor, &r->out_t[i], "output", i);
  }
  /* Ops of the signature's subgraph: optional API, used for Flex detection
   * and the op list of --profile-ops. */
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
  return 0;
}

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

/* Lists custom op codes (comma separated) whose name starts with `prefix`
 * (NULL: all). Returns how many. */
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

/* ---------- compilation ---------- */

static void free_payload(void *p) { free(p); }

static lr_status add_text_options(runner *r, lr_options opts, const char *id,
                                  const char *text) {
  lr_opaque_options opaque = NULL;
  char *payload = strdup(text);
  lr_status st = r->api.CreateOpaqueOptions(id, payload, free_payload, &opaque);
  if (st != LR_OK) {
    free(payload);
    return st;
  }
  return r->api.AddOpaqueOptions(opts, opaque);
}

/* Compiles for `hw`. On failure returns the status and fills `why`. */
lr_status compile(runner *r, int hw, int profiling, lr_compiled_model *cm,
                         char *why, size_t why_len) {
  lr_options opts = NULL;
  lr_status st = r->api.CreateOptions(&opts);
  if (st != LR_OK) {
    snprintf(why, why_len, "LiteRtCreateOptions returned %s (%d)", lr_status_name(st), st);
    return st;
  }
  char threads[64];
  snprintf(threads, sizeof(threads), "num_threads = %d\n", r->args->threads);
  if ((st = r->api.SetOptionsHardwareAccelerators(opts, hw)) != LR_OK ||
      /* "xnnpack": the XNNPACK delegate's options; "cpu_delegate": the
       * interpreter's own kernels (ops XNNPACK does not take). */
      (st = add_text_options(r, opts, "xnnpack", threads)) != LR_OK ||
      (st = add_text_options(r, opts, "cpu_delegate", threads)) != LR_OK ||
      (profiling && (st = add_text_options(r, opts, "runtime_options_string",
                                           "enable_profiling = true\n")) != LR_OK)) {
    snprintf(why, why_len, "setting compilation options failed: %s (%d)",
             lr_status_name(st), st);
    return st;
  }
  stderr_capture cap;
  char said[768];
  stderr_capture_begin(&cap);
  st = r->api.CreateCompiledModel(r->env, r->model, opts, cm);
  stderr_capture_end(&cap, said, sizeof(said));
  if (st != LR_OK) {
    snprintf(why, why_len, "LiteRtCreateCompiledModel returned %s (%d)%s%s",
             lr_status_name(st), st, said[0] ? "; library said: " : "", said);
  }
  /* `opts` is owned by us and may be referenced by the compiled model: kept. */
  return st;
}

/* Which registered accelerators support hardware `hw`. Returns 1 when one does, 0 when none does
 * (names of those that are registered go into `registered`), -1 when the library cannot say. A GPU
 * request on a runtime without a GPU accelerator otherwise "succeeds" on CPU under a GPU label. */
int accelerator_registered(runner *r, int hw, char *registered, size_t len) {
  registered[0] = '\0';
  if (!r->api.GetNumAccelerators || !r->api.GetAccelerator || !r->api.GetAcceleratorHardwareSupport) {
    return -1;
  }
  size_t n = 0;
  if (r->api.GetNumAccelerators(r->env, &n) != LR_OK) return -1;
  int found = 0;
  size_t used = 0;
  for (size_t i = 0; i < n; ++i) {
    void *acc = NULL;
    int support = 0;
    if (r->api.GetAccelerator(r->env, i, &acc) != LR_OK || !acc) continue;
    if (r->api.GetAcceleratorHardwareSupport(acc, &support) != LR_OK) continue;
    if (support & hw) found = 1;
    const char *name = NULL;
    if (r->api.GetAcceleratorName && r->api.GetAcceleratorName(acc, &name) == LR_OK && name) {
      int w = snprintf(registered + used, len - used, "%s%s", used ? ", " : "", name);
      if (w > 0 && (size_t)w < len - used) used += (size_t)w;
    }
  }
  if (!used) snprintf(registered, len, "none");
  return found;
}

const char *accel_name(int hw) {
  if (hw & LR_HW_NPU) return "npu";
  if (hw & LR_HW_GPU) return "gpu";
  return "cpu";
}

static int name_is(const char *name, const input_shape *shape) {
  return name != NULL && strlen(name) == shape->name_len &&
         strncmp(name, shape->name, shape->name_len) == 0;
}

/* The names a user can give, for error messages: 'sig' (tensor 'tn'), ... */
static void list_input_names(const runner *r, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < r->n_in && used < len; ++i) {
    const io_tensor *t = &r->in[i];
    int w = snprintf(buf + used, len - used, "%s%zu '%s'", i ? ", " : "", i, t->name ? t->name : "");
    if (w > 0) used += (size_t)w;
    if (used < len && t->tensor_name && (!t->name || strcmp(t->name, t->tensor_name) != 0)) {
      w = snprintf(buf + used, len - used, " (tensor '%s')", t->tensor_name);
      if (w > 0) used += (size_t)w;
    }
  }
  if (used >= len && len > 4) memcpy(buf + len - 4, "...", 4);
}

int match_input_shapes(runner *r) {
  for (size_t k = 0; k < r->args->n_shapes; ++k) {
    const input_shape *s = &r->args->shapes[k];
    size_t found = r->n_in;
    if (s->name != NULL) {
      /* The signature name first; the tensor name is accepted when no signature name matches. */
      for (size_t i = 0; i < r->n_in && found == r->n_in; ++i) {
        if (name_is(r->in[i].name, s)) found = i;
      }
      for (size_t i = 0; i < r->n_in && found == r->n_in; ++i) {
        if (name_is(r->in[i].tensor_name, s)) found = i;
      }
    } else if (s->index < r->n_in) {
      found = s->index;
    }
    if (found == r->n_in) {
      char names[1024];
      list_input_names(r, names, sizeof(names));
      if (s->name != NULL) {
        return fail(r, "load_model", "input", EXIT_INPUT,
                    "--input-shape names input '%.*s' but the model has no input of that name; "
                    "its inputs are: %s", (int)s->name_len, s->name, names);
      }
      return fail(r, "load_model", "input", EXIT_INPUT,
                  "--input-shape names input %zu but the model has %zu inputs: %s", s->index,
                  r->n_in, names);
    }
    if (r->in[found].given != NULL) {
      return fail(r, "load_model", "input", EXIT_INPUT,
                  "input %zu ('%s') is given two shapes by --input-shape; give one per input",
                  found, r->in[found].name);
    }
    r->in[found].given = s;
  }
  return 0;
}

/* Resolves input dims (the --input-shape given, else -1 -> 1), resizes, reads back the shapes
 * the compiled model settled on, and reads the output layouts. */
int resolve_shapes(runner *r, lr_compiled_model cm, int report) {
  for (size_t i = 0; i < r->n_in; ++i) {
    io_tensor *t = &r->in[i];
    unsigned rank = t->type.layout.rank;
    int dims[LR_MAX_RANK];
    int changed = 0, dynamic = 0;
    const input_shape *user = t->given;
    if (user && user->rank != rank) {
      if (!report) return -1;
      return fail(r, "create_buffers", "input", EXIT_INPUT,
                  "--input-shape for input %zu ('%s') has %u dimensions but the input has rank %u "
                  "(model dims as in the setup line's shape_signature)",
                  i, t->name, user->rank, rank);
    }
    for (unsigned d = 0; d < rank; ++d) {
      if (t->model_dims[d] < 0) dynamic = 1;
      dims[d] = user ? user->dims[d] : (t->model_dims[d] < 0 ? 1 : t->model_dims[d]);
      if (dims[d] != t->type.layout.dimensions[d]) changed = 1;
    }
    t->shape_source = user ? "option" : dynamic ? "placeholder" : "model";
    if (changed) {
      if (!r->api.ResizeInputTensor) {
        if (!report) return -1;
        return fail(r, "create_buffers", "input", EXIT_INPUT,
                    "input %zu ('%s') needs a resize but this libLiteRt.so does not "
                    "export LiteRtCompiledModelResizeInputTensor; use a newer runtime "
                    "or a model with static shapes", i, t->name);
      }
      stderr_capture cap;
      char said[768];
      stderr_capture_begin(&cap);
      lr_status st = r->api.ResizeInputTensor(cm, 0, i, dims, rank);
      stderr_capture_end(&cap, said, sizeof(said));
      if (st != LR_OK) {
        if (!report) return -1;
        return fail(r, "create_buffers", "input", EXIT_INPUT,
                    "resizing input %zu ('%s') failed: %s (%d)%s%s; pass a shape the model "
                    "accepts with --input-shape %s=D0,D1,...", i, t->name,
                    lr_status_name(st), st, said[0] ? "; library said: " : "", said, t->name);
      }
    }
    for (unsigned d = 0; d < rank; ++d) t->type.layout.dimensions[d] = dims[d];
    /* What actually runs is what the compiled model reports, not what was asked for. */
    lr_layout now;
    memset(&now, 0, sizeof(now));
    if (r->api.GetInputTensorLayout && r->api.GetInputTensorLayout(cm, 0, i, &now) == LR_OK &&
        now.rank == rank) {
      for (unsigned d = 0; d < rank; ++d) {
        if (now.dimensions[d] != dims[d]) {
          if (!report) return -1;
          return fail(r, "create_buffers", "input", EXIT_INPUT,
                      "input %zu ('%s') was resized but the compiled model reports dimension %u "
                      "as %d, not %d; the runtime did not take the shape", i, t->name, d,
                      (int)now.dimensions[d], dims[d]);
        }
      }
    }
  }
  int need_layouts = 0;
  for (size_t i = 0; i < r->n_out; ++i) {
    for (unsigned d = 0; d < r->out_t[i].type.layout.rank; ++d) {
      if (r->out_t[i].type.layout.dimensions[d] < 0) need_layouts = 1;
    }
  }
  for (size_t i = 0; i < r->n_in; ++i) {
    for (unsigned d = 0; d < r->in[i].type.layout.rank; ++d) {
      if (r->in[i].model_dims[d] < 0 ||
          r->in[i].model_dims[d] != r->in[i].type.layout.dimensions[d]) {
        need_layouts = 1;
      }
    }
  }
  if (r->api.GetOutputTensorLayouts && r->n_out > 0) {
    lr_layout *layouts = calloc(r->n_out, sizeof(lr_layout));
    lr_status st = r->api.GetOutputTensorLayouts(cm, 0, r->n_out, layouts, true);
    if (st == LR_OK) {
      for (size_t i = 0; i < r->n_out; ++i) {
        unsigned rank = layouts[i].rank;
        if (rank > LR_MAX_RANK) rank = LR_MAX_RANK;
        r->out_t[i].type.layout.rank = rank;
        for (unsigned d = 0; d < rank; ++d) {
          r->out_t[i].type.layout.dimensions[d] = layouts[i].dimensions[d];
        }
      }
    } else if (need_layouts) {
      free(layouts);
      if (!report) return -1;
      return fail(r, "create_buffers", "input", EXIT_INPUT,
                  "cannot read the output shapes after resizing: "
                  "LiteRtGetCompiledModelOutputTensorLayouts returned %s (%d)",
                  lr_status_name(st), st);
    }
    free(layouts);
  } else if (need_layouts) {
    if (!report) return -1;
    return fail(r, "create_buffers", "input", EXIT_INPUT,
                "the model has dynamic shapes but this libLiteRt.so does not export "
                "LiteRtGetCompiledModelOutputTensorLayouts; use ai-edge-litert >= 2.1");
  }
  return 0;
}

int tensor_bytes(runner *r, io_tensor *t, const char *what, size_t index) {
  size_t esize = dtype_size(t->type.element_type);
  const char *dt = dtype_name(t->type.element_type);
  if (esize == 0) {
    return fail(r, "create_buffers", "input", EXIT_INPUT,
                "%s %zu ('%s') has element type %s (code %d), which the runner "
                "cannot feed or size; models with string/resource/variant %ss are "
                "not supported", what, index, t->name, dt ? dt : "unknown",
                t->type.element_type, what);
  }
  size_t n = 1;
  for (unsigned d = 0; d < t->type.layout.rank; ++d) {
    int dim = t->type.layout.dimensions[d];
    if (dim < 0) {
      return fail(r, "create_buffers", "input", EXIT_INPUT,
                  "%s %zu ('%s') still has a dynamic dimension %u after compilation; "
                  "give its shape with --input-shape", what, index, t->name, d);
    }
    n *= (size_t)dim;
  }
  t->bytes = n * esize;
  return 0;
}

int make_buffer(runner *r, lr_compiled_model cm, io_tensor *t, int is_input,
                       size_t index) {
  lr_buffer_requirements req = NULL;
  lr_status st = is_input ? r->api.GetInputBufferRequirements(cm, 0, index, &req)
                          : r->api.GetOutputBufferRequirements(cm, 0, index, &req);
  int buffer_type = LR_BUFFER_HOST_MEMORY;
  size_t size = t->bytes;
  if (st == LR_OK && req != NULL) {
    size_t req_size = 0;
    int n_types = 0;
    if (r->api.GetRequirementsBufferSize(req, &req_size) == LR_OK && req_size > size) {
      size = req_size;
    }
    if (r->api.GetRequirementsNumTypes(req, &n_types) == LR_OK && n_types > 0) {
      int first = -1, has_host = 0;
      for (int k = 0; k < n_types; ++k) {
        int type = 0;
        if (r->api.GetRequirementsType(req, k, &type) != LR_OK) continue;
        if (first < 0) first = type;
        if (type == LR_BUFFER_HOST_MEMORY) has_host = 1;
      }
      buffer_type = has_host || first < 0 ? LR_BUFFER_HOST_MEMORY : first;
    }
  }
  if (size == 0) size = 1; /* zero-element tensors still need a handle */
  st = r->api.CreateManagedTensorBuffer(r->env, buffer_type, &t->type, size, &t->buffer);
  if (st != LR_OK) {
    return fail(r, "create_buffers", "input", EXIT_INPUT,
                "cannot create the %s buffer %zu ('%s', %zu bytes, buffer type %d): %s (%d)",
                is_input ? "input" : "output", index, t->name, size, buffer_type,
                lr_status_name(st), st);
  }
  return 0;
}

int fill_inputs(runner *r) {
  for (size_t i = 0; i < r->n_in; ++i) {
    io_tensor *t = &r->in[i];
    void *ptr = NULL;
    lr_status st = r->api.LockTensorBuffer(t->buffer, &ptr, LR_LOCK_WRITE);
    if (st != LR_OK || ptr == NULL) {
      return fail(r, "create_buffers", "input", EXIT_INPUT,
                  "cannot map input buffer %zu for writing: %s (%d)", i, lr_status_name(st), st);
    }
    if (r->args->n_files > 0) {
      const char *path = r->args->files[i];
      FILE *f = fopen(path, "rb");
      if (f == NULL) {
        r->api.UnlockTensorBuffer(t->buffer);
        return fail(r, "create_buffers", "input", EXIT_INPUT,
                    "cannot open --input-file %s for input %zu ('%s'): %s", path, i,
                    t->name, strerror(errno));
      }
      size_t got = fread(ptr, 1, t->bytes, f);
      int extra = fgetc(f) != EOF;
      fclose(f);
      if (got != t->bytes || extra) {
        r->api.UnlockTensorBuffer(t->buffer);
        return fail(r, "create_buffers", "input", EXIT_INPUT,
                    "--input-file %s has the wrong size for input %zu ('%s'): expected "
                    "exactly %zu bytes (%s, shape as in the setup line), got %s%zu",
                    path, i, t->name, t->bytes, dtype_name(t->type.element_type),
                    extra ? "more than " : "", got);
      }
    } else {
      fill_seeded(ptr, t->bytes, t->type.element_type, r->args->input_seed, i);
    }
    r->api.UnlockTensorBuffer(t->buffer);
  }
  return 0;
}
