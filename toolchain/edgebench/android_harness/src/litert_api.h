/* Minimal, self-written declarations of the LiteRT C API calls the runner uses.
 *
 * Why not the upstream headers: the runner must build with any C compiler
 * (gcc, zig cc, NDK clang) without a LiteRT checkout, and it resolves every
 * function at run time with dlsym so one binary can refuse, with a clear
 * message, a libLiteRt.so it does not understand instead of failing to load.
 * Only ABI facts are mirrored here: handle types are opaque pointers, enums
 * are ints, and the three plain structs (layout, ranked tensor type,
 * profiler event) have the layout documented in the LiteRT C API.
 */
#ifndef EDGEBENCH_LITERT_API_H_
#define EDGEBENCH_LITERT_API_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int lr_status; /* LiteRtStatus: 0 = ok */
#define LR_OK 0

typedef struct lr_environment_s *lr_environment;
typedef struct lr_model_s *lr_model;
typedef struct lr_signature_s *lr_signature;
typedef struct lr_subgraph_s *lr_subgraph;
typedef struct lr_op_s *lr_op;
typedef struct lr_tensor_s *lr_tensor;
typedef struct lr_options_s *lr_options;
typedef struct lr_opaque_options_s *lr_opaque_options;
typedef struct lr_compiled_model_s *lr_compiled_model;
typedef struct lr_tensor_buffer_s *lr_tensor_buffer;
typedef struct lr_buffer_requirements_s *lr_buffer_requirements;
typedef struct lr_profiler_s *lr_profiler;

/* LiteRtHwAccelerators bit set. */
#define LR_HW_CPU 1
#define LR_HW_GPU 2
#define LR_HW_NPU 4

/* LiteRtTensorTypeId */
#define LR_RANKED_TENSOR 0

/* LiteRtTensorBufferType */
#define LR_BUFFER_HOST_MEMORY 1

/* LiteRtTensorBufferLockMode */
#define LR_LOCK_READ 0
#define LR_LOCK_WRITE 1

/* LiteRtOpCode values used by the runner (same numbers as TFLite builtins). */
#define LR_OPCODE_CUSTOM 32

/* LiteRtElementType (same numbers as TfLiteType). */
enum {
  LR_TYPE_NONE = 0,
  LR_TYPE_FLOAT32 = 1,
  LR_TYPE_INT32 = 2,
  LR_TYPE_UINT8 = 3,
  LR_TYPE_INT64 = 4,
  LR_TYPE_STRING = 5,
  LR_TYPE_BOOL = 6,
  LR_TYPE_INT16 = 7,
  LR_TYPE_COMPLEX64 = 8,
  LR_TYPE_INT8 = 9,
  LR_TYPE_FLOAT16 = 10,
  LR_TYPE_FLOAT64 = 11,
  LR_TYPE_COMPLEX128 = 12,
  LR_TYPE_UINT64 = 13,
  LR_TYPE_RESOURCE = 14,
  LR_TYPE_VARIANT = 15,
  LR_TYPE_UINT32 = 16,
  LR_TYPE_UINT16 = 17,
  LR_TYPE_INT4 = 18,
  LR_TYPE_BFLOAT16 = 19,
};

#define LR_MAX_RANK 8

/* LiteRtQuantizationTypeId, and LiteRtQuantizationPerTensor. */
#define LR_QUANT_UNKNOWN (-1) /* the library cannot say (not a LiteRT value) */
#define LR_QUANT_NONE 0
#define LR_QUANT_PER_TENSOR 1
typedef struct {
  float scale;
  int64_t zero_point;
} lr_quant_per_tensor;

/* LiteRtLayout: 68 bytes; rank and has_strides share the first 32-bit unit. */
typedef struct {
  unsigned int rank : 7;
  unsigned int has_strides : 1;
  int32_t dimensions[LR_MAX_RANK];
  uint32_t strides[LR_MAX_RANK];
} lr_layout;

/* LiteRtRankedTensorType: element type followed by the layout (72 bytes). */
typedef struct {
  int element_type;
  lr_layout layout;
} lr_ranked_tensor_type;

/* ProfiledEventData (litert_profiler_event.h). */
typedef struct {
  size_t total_allocated_bytes;
  size_t in_use_allocated_bytes;
  size_t private_footprint_bytes;
} lr_memory_usage;

typedef struct {
  const char *tag;
  int event_type; /* LiteRtProfilerEventType bit */
  uint64_t start_timestamp_us;
  uint64_t elapsed_time_us;
  lr_memory_usage begin_mem_usage;
  lr_memory_usage end_mem_usage;
  uint64_t event_metadata1;
  uint64_t event_metadata2;
  int event_source; /* 0 LITERT, 1 TFLITE_INTERPRETER, 2 TFLITE_DELEGATE */
} lr_profiled_event;

#define LR_EVENT_OPERATOR_INVOKE 2
#define LR_EVENT_DELEGATE_OPERATOR_INVOKE 4
#define LR_EVENT_DELEGATE_PROFILED_OPERATOR_INVOKE 8

/* LiteRtAny + LiteRtEnvOption (environment options at creation). */
typedef struct {
  int type; /* LiteRtAnyType: 8 = string */
  union {
    bool bool_value;
    int64_t int_value;
    double real_value;
    const char *str_value;
    const void *ptr_value;
  } value;
} lr_any;

typedef struct {
  int tag; /* LiteRtEnvOptionTag */
  lr_any value;
} lr_env_option;

#define LR_ANY_STRING 8
#define LR_ENV_DISPATCH_LIBRARY_DIR 1
#define LR_ENV_RUNTIME_LIBRARY_DIR 22 /* since early 2026 (2.2+ libraries) */

/* API generation: how LiteRtCreateModelFromFile is called. */
typedef enum {
  LR_GEN_UNKNOWN = 0,
  LR_GEN_PRE_2_2 = 1, /* LiteRtCreateModelFromFile(filename, &model) */
  LR_GEN_2_2_PLUS = 2 /* LiteRtCreateModelFromFile(env, filename, &model) */
} lr_generation;

typedef struct {
  void *handle;
  lr_generation generation;
  const char *generation_evidence; /* which exported symbol decided it */

  /* Required. */
  lr_status (*CreateEnvironment)(int, const lr_env_option *, lr_environment *);
  void (*DestroyEnvironment)(lr_environment);
  void *CreateModelFromFile; /* signature depends on the generation */
  void (*DestroyModel)(lr_model);
  lr_status (*GetNumModelSignatures)(lr_model, size_t *);
  lr_status (*GetModelSignature)(lr_model, size_t, lr_signature *);
  lr_status (*GetNumSignatureInputs)(lr_signature, size_t *);
  lr_status (*GetNumSignatureOutputs)(lr_signature, size_t *);
  lr_status (*GetSignatureInputName)(lr_signature, size_t, const char **);
  lr_status (*GetSignatureOutputName)(lr_signature, size_t, const char **);
  lr_status (*GetSignatureInputTensor)(lr_signature, const char *, lr_tensor *);
  lr_status (*GetSignatureOutputTensor)(lr_signature, const char *, lr_tensor *);
  lr_status (*GetTensorTypeId)(lr_tensor, int *);
  lr_status (*GetRankedTensorType)(lr_tensor, lr_ranked_tensor_type *);
  lr_status (*CreateOptions)(lr_options *);
  void (*DestroyOptions)(lr_options);
  lr_status (*SetOptionsHardwareAccelerators)(lr_options, int);
  lr_status (*CreateOpaqueOptions)(const char *, void *, void (*)(void *),
                                   lr_opaque_options *);
  lr_status (*AddOpaqueOptions)(lr_options, lr_opaque_options);
  lr_status (*CreateCompiledModel)(lr_environment, lr_model, lr_options,
                                   lr_compiled_model *);
  void (*DestroyCompiledModel)(lr_compiled_model);
  lr_status (*RunCompiledModel)(lr_compiled_model, size_t, size_t,
                                lr_tensor_buffer *, size_t, lr_tensor_buffer *);
  lr_status (*GetInputBufferRequirements)(lr_compiled_model, size_t, size_t,
                                          lr_buffer_requirements *);
  lr_status (*GetOutputBufferRequirements)(lr_compiled_model, size_t, size_t,
                                           lr_buffer_requirements *);
  lr_status (*GetRequirementsBufferSize)(lr_buffer_requirements, size_t *);
  lr_status (*GetRequirementsNumTypes)(lr_buffer_requirements, int *);
  lr_status (*GetRequirementsType)(lr_buffer_requirements, int, int *);
  lr_status (*CreateManagedTensorBuffer)(lr_environment, int,
                                         const lr_ranked_tensor_type *, size_t,
                                         lr_tensor_buffer *);
  void (*DestroyTensorBuffer)(lr_tensor_buffer);
  lr_status (*LockTensorBuffer)(lr_tensor_buffer, void **, int);
  lr_status (*UnlockTensorBuffer)(lr_tensor_buffer);

  /* Optional: NULL when the library does not export them. */
  lr_status (*GetSignatureInputTensorByIndex)(lr_signature, size_t, lr_tensor *);
  lr_status (*GetSignatureOutputTensorByIndex)(lr_signature, size_t,
                                               lr_tensor *);
  lr_status (*GetTensorName)(lr_tensor, const char **);
  lr_status (*GetSignatureSubgraph)(lr_signature, lr_subgraph *);
  lr_status (*GetNumSubgraphOps)(lr_subgraph, size_t *);
  lr_status (*GetSubgraphOp)(lr_subgraph, size_t, lr_op *);
  lr_status (*GetOpCode)(lr_op, int *);
  lr_status (*GetCustomCode)(lr_op, const char **);
  lr_status (*ResizeInputTensor)(lr_compiled_model, size_t, size_t,
                                 const int *, size_t);
  lr_status (*GetOutputTensorLayouts)(lr_compiled_model, size_t, size_t,
                                      lr_layout *, bool);
  /* The shape an input has in the compiled model (after a resize): what actually runs. */
  lr_status (*GetInputTensorLayout)(lr_compiled_model, size_t, size_t, lr_layout *);
  lr_status (*IsFullyAccelerated)(lr_compiled_model, bool *);
  lr_status (*GetProfiler)(lr_compiled_model, lr_profiler *);
  lr_status (*StartProfiler)(lr_profiler);
  lr_status (*StopProfiler)(lr_profiler);
  lr_status (*ResetProfiler)(lr_profiler);
  lr_status (*GetNumProfilerEvents)(lr_profiler, int *);
  lr_status (*GetProfilerEvents)(lr_profiler, int, lr_profiled_event *);
  /* Accelerators registered in an environment: tells whether a GPU/NPU request can be honoured. */
  lr_status (*GetNumAccelerators)(lr_environment, size_t *);
  lr_status (*GetAccelerator)(lr_environment, size_t, void **);
  lr_status (*GetAcceleratorName)(void *, const char **);
  lr_status (*GetAcceleratorHardwareSupport)(void *, int *);
  /* Quantization of a tensor (--check-outputs dequantizes outputs, quantizes inputs). */
  lr_status (*GetQuantizationTypeId)(lr_tensor, int *);
  lr_status (*GetPerTensorQuantization)(lr_tensor, lr_quant_per_tensor *);
} lr_api;

/* dlopen()s `path` and resolves the table. On failure returns -1 and writes a
 * message (what was expected, what was found, what to do) into err. */
int lr_api_load(lr_api *api, const char *path, char *err, size_t err_len);

/* Generation-independent LiteRtCreateModelFromFile. */
lr_status lr_create_model_from_file(const lr_api *api, lr_environment env,
                                    const char *path, lr_model *model);

const char *lr_status_name(lr_status status);
const char *lr_generation_name(lr_generation generation);

#endif /* EDGEBENCH_LITERT_API_H_ */
