/* edgebench_runner: matching --input-shape to inputs, resizing, and reading back
 * the shapes the compiled model settled on. */
#define _GNU_SOURCE
#include "shapes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procinfo.h"

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

void match_input_shapes(runner *r) {
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
        fail(r, "load_model", "input", EXIT_INPUT,
             "--input-shape names input '%.*s' but the model has no input of that name; "
             "its inputs are: %s", (int)s->name_len, s->name, names);
      }
      fail(r, "load_model", "input", EXIT_INPUT,
           "--input-shape names input %zu but the model has %zu inputs: %s", s->index,
           r->n_in, names);
    }
    if (r->in[found].given != NULL) {
      fail(r, "load_model", "input", EXIT_INPUT,
           "input %zu ('%s') is given two shapes by --input-shape; give one per input",
           found, r->in[found].name);
    }
    r->in[found].given = s;
  }
}

/* Dims input t runs with: the --input-shape given, else the model's (-1 -> 1). */
static int wanted_dims(runner *r, size_t i, int *dims, int report) {
  io_tensor *t = &r->in[i];
  unsigned rank = t->type.layout.rank;
  int changed = 0, dynamic = 0;
  const input_shape *user = t->given;
  if (user && user->rank != rank) {
    if (!report) return -1;
    fail(r, "create_buffers", "input", EXIT_INPUT,
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
  return changed;
}

static int resize_input(runner *r, lr_compiled_model cm, size_t i, const int *dims, int report) {
  io_tensor *t = &r->in[i];
  if (!r->api.ResizeInputTensor) {
    if (!report) return -1;
    fail(r, "create_buffers", "input", EXIT_INPUT,
         "input %zu ('%s') needs a resize but this libLiteRt.so does not "
         "export LiteRtCompiledModelResizeInputTensor; use a newer runtime "
         "or a model with static shapes", i, t->name);
  }
  stderr_capture cap;
  char said[768];
  stderr_capture_begin(&cap);
  lr_status st = r->api.ResizeInputTensor(cm, 0, i, dims, t->type.layout.rank);
  stderr_capture_end(&cap, said, sizeof(said));
  if (st != LR_OK) {
    if (!report) return -1;
    fail(r, "create_buffers", "input", EXIT_INPUT,
         "resizing input %zu ('%s') failed: %s (%d)%s%s; pass a shape the model "
         "accepts with --input-shape %s=D0,D1,...", i, t->name,
         lr_status_name(st), st, said[0] ? "; library said: " : "", said, t->name);
  }
  return 0;
}

/* What actually runs is what the compiled model reports, not what was asked for. */
static int check_taken(runner *r, lr_compiled_model cm, size_t i, const int *dims, int report) {
  io_tensor *t = &r->in[i];
  unsigned rank = t->type.layout.rank;
  lr_layout now;
  memset(&now, 0, sizeof(now));
  if (!r->api.GetInputTensorLayout || r->api.GetInputTensorLayout(cm, 0, i, &now) != LR_OK ||
      now.rank != rank) {
    return 0;
  }
  for (unsigned d = 0; d < rank; ++d) {
    if (now.dimensions[d] != dims[d]) {
      if (!report) return -1;
      fail(r, "create_buffers", "input", EXIT_INPUT,
           "input %zu ('%s') was resized but the compiled model reports dimension %u "
           "as %d, not %d; the runtime did not take the shape", i, t->name, d,
           (int)now.dimensions[d], dims[d]);
    }
  }
  return 0;
}

static int resolve_input(runner *r, lr_compiled_model cm, size_t i, int report) {
  int dims[LR_MAX_RANK];
  int changed = wanted_dims(r, i, dims, report);
  if (changed < 0) return -1;
  if (changed && resize_input(r, cm, i, dims, report) != 0) return -1;
  io_tensor *t = &r->in[i];
  for (unsigned d = 0; d < t->type.layout.rank; ++d) t->type.layout.dimensions[d] = dims[d];
  return check_taken(r, cm, i, dims, report);
}

/* Output shapes must be read back when an output is dynamic or an input was resized. */
static int need_output_layouts(const runner *r) {
  int need = 0;
  for (size_t i = 0; i < r->n_out; ++i) {
    for (unsigned d = 0; d < r->out_t[i].type.layout.rank; ++d) {
      if (r->out_t[i].type.layout.dimensions[d] < 0) need = 1;
    }
  }
  for (size_t i = 0; i < r->n_in; ++i) {
    for (unsigned d = 0; d < r->in[i].type.layout.rank; ++d) {
      if (r->in[i].model_dims[d] < 0 ||
          r->in[i].model_dims[d] != r->in[i].type.layout.dimensions[d]) {
        need = 1;
      }
    }
  }
  return need;
}

static int read_output_layouts(runner *r, lr_compiled_model cm, int report) {
  int need_layouts = need_output_layouts(r);
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
      fail(r, "create_buffers", "input", EXIT_INPUT,
           "cannot read the output shapes after resizing: "
           "LiteRtGetCompiledModelOutputTensorLayouts returned %s (%d)",
           lr_status_name(st), st);
    }
    free(layouts);
  } else if (need_layouts) {
    if (!report) return -1;
    fail(r, "create_buffers", "input", EXIT_INPUT,
         "the model has dynamic shapes but this libLiteRt.so does not export "
         "LiteRtGetCompiledModelOutputTensorLayouts; use ai-edge-litert >= 2.1");
  }
  return 0;
}

int resolve_shapes(runner *r, lr_compiled_model cm, int report) {
  for (size_t i = 0; i < r->n_in; ++i) {
    if (resolve_input(r, cm, i, report) != 0) return -1;
  }
  return read_output_layouts(r, cm, report);
}
