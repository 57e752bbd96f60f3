/* edgebench_runner: sizing, creating and filling the model's buffers. */
#define _GNU_SOURCE
#include "buffers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash_guard.h"
#include "procinfo.h"
#include "shapes.h"
#include "tensors.h"

static void tensor_bytes(runner *r, io_tensor *t, const char *what, size_t index) {
  size_t esize = dtype_size(t->type.element_type);
  const char *dt = dtype_name(t->type.element_type);
  if (esize == 0) {
    fail(r, "create_buffers", "input", EXIT_INPUT,
         "%s %zu ('%s') has element type %s (code %d), which the runner "
         "cannot feed or size; models with string/resource/variant %ss are "
         "not supported", what, index, t->name, dt ? dt : "unknown",
         t->type.element_type, what);
  }
  size_t n = 1;
  for (unsigned d = 0; d < t->type.layout.rank; ++d) {
    int dim = t->type.layout.dimensions[d];
    if (dim < 0) {
      fail(r, "create_buffers", "input", EXIT_INPUT,
           "%s %zu ('%s') still has a dynamic dimension %u after compilation; "
           "give its shape with --input-shape", what, index, t->name, d);
    }
    n *= (size_t)dim;
  }
  t->bytes = n * esize;
}

static void make_buffer(runner *r, lr_compiled_model cm, io_tensor *t, int is_input,
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
    fail(r, "create_buffers", "input", EXIT_INPUT,
         "cannot create the %s buffer %zu ('%s', %zu bytes, buffer type %d): %s (%d)",
         is_input ? "input" : "output", index, t->name, size, buffer_type,
         lr_status_name(st), st);
  }
}

/* Reads --input-file number i into the mapped input buffer (exactly its size). */
static void read_input_file(runner *r, size_t i, void *ptr) {
  io_tensor *t = &r->in[i];
  const char *path = r->args->files[i];
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    r->api.UnlockTensorBuffer(t->buffer);
    fail(r, "create_buffers", "input", EXIT_INPUT,
         "cannot open --input-file %s for input %zu ('%s'): %s", path, i,
         t->name, strerror(errno));
  }
  size_t got = fread(ptr, 1, t->bytes, f);
  int extra = fgetc(f) != EOF;
  fclose(f);
  if (got != t->bytes || extra) {
    r->api.UnlockTensorBuffer(t->buffer);
    fail(r, "create_buffers", "input", EXIT_INPUT,
         "--input-file %s has the wrong size for input %zu ('%s'): expected "
         "exactly %zu bytes (%s, shape as in the setup line), got %s%zu",
         path, i, t->name, t->bytes, dtype_name(t->type.element_type),
         extra ? "more than " : "", got);
  }
}

static void fill_inputs(runner *r) {
  for (size_t i = 0; i < r->n_in; ++i) {
    io_tensor *t = &r->in[i];
    void *ptr = NULL;
    lr_status st = r->api.LockTensorBuffer(t->buffer, &ptr, LR_LOCK_WRITE);
    if (st != LR_OK || ptr == NULL) {
      fail(r, "create_buffers", "input", EXIT_INPUT,
           "cannot map input buffer %zu for writing: %s (%d)", i, lr_status_name(st), st);
    }
    if (r->args->n_files > 0) {
      read_input_file(r, i, ptr);
    } else {
      fill_seeded(ptr, t->bytes, t->type.element_type, r->args->input_seed, i);
    }
    r->api.UnlockTensorBuffer(t->buffer);
  }
}

void buffers_prepare(runner *r) {
  uint64_t t0 = now_boottime_ns();
  crash_guard_stage("create_buffers", "input", EXIT_INPUT,
                    "LiteRT crashed while resizing inputs or creating the tensor buffers");
  resolve_shapes(r, r->cm, 1);
  for (size_t i = 0; i < r->n_in; ++i) tensor_bytes(r, &r->in[i], "input", i);
  for (size_t i = 0; i < r->n_out; ++i) tensor_bytes(r, &r->out_t[i], "output", i);
  for (size_t i = 0; i < r->n_in; ++i) {
    make_buffer(r, r->cm, &r->in[i], 1, i);
    r->in_bufs[i] = r->in[i].buffer;
  }
  for (size_t i = 0; i < r->n_out; ++i) {
    make_buffer(r, r->cm, &r->out_t[i], 0, i);
    r->out_bufs[i] = r->out_t[i].buffer;
  }
  fill_inputs(r);
  r->init.create_buffers = ns_between(t0, now_boottime_ns());
}
