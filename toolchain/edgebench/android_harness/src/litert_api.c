/* Run-time binding to libLiteRt.so (see litert_api.h for why). */
#include "litert_api.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* Symbols that decide the API generation. LiteRtCreateModelFromFile gained a
 * leading LiteRtEnvironment argument under the same name (LiteRT 2.2), so the
 * name alone says nothing. LiteRtCreateModelFromAllocation was first exported
 * (with its environment argument) right after that change, and is present in
 * every later release: its presence marks the 2.2+ calling convention. A
 * library that exports the core CompiledModel API without it predates the
 * change. Anything without the core API is not a LiteRT runtime we know. */
#define LR_MARKER_2_2 "LiteRtCreateModelFromAllocation"
/* Exported only by libraries newer than the 2.2 change (August 2026). Seen
 * without the 2.2 marker, the library is of a generation we cannot name. */
#define LR_MARKER_NEWER "LiteRtCompiledModelIsNonCpuFullyAccelerated"

typedef struct {
  const char *name;
  size_t offset;
  int required;
} lr_sym;

#define REQ(field, sym) {sym, offsetof(lr_api, field), 1}
#define OPT(field, sym) {sym, offsetof(lr_api, field), 0}

static const lr_sym kSymbols[] = {
    REQ(CreateEnvironment, "LiteRtCreateEnvironment"),
    REQ(DestroyEnvironment, "LiteRtDestroyEnvironment"),
    REQ(CreateModelFromFile, "LiteRtCreateModelFromFile"),
    REQ(DestroyModel, "LiteRtDestroyModel"),
    REQ(GetNumModelSignatures, "LiteRtGetNumModelSignatures"),
    REQ(GetModelSignature, "LiteRtGetModelSignature"),
    REQ(GetNumSignatureInputs, "LiteRtGetNumSignatureInputs"),
    REQ(GetNumSignatureOutputs, "LiteRtGetNumSignatureOutputs"),
    REQ(GetSignatureInputName, "LiteRtGetSignatureInputName"),
    REQ(GetSignatureOutputName, "LiteRtGetSignatureOutputName"),
    REQ(GetSignatureInputTensor, "LiteRtGetSignatureInputTensor"),
    REQ(GetSignatureOutputTensor, "LiteRtGetSignatureOutputTensor"),
    REQ(GetTensorTypeId, "LiteRtGetTensorTypeId"),
    REQ(GetRankedTensorType, "LiteRtGetRankedTensorType"),
    REQ(CreateOptions, "LiteRtCreateOptions"),
    REQ(DestroyOptions, "LiteRtDestroyOptions"),
    REQ(SetOptionsHardwareAccelerators, "LiteRtSetOptionsHardwareAccelerators"),
    REQ(CreateOpaqueOptions, "LiteRtCreateOpaqueOptions"),
    REQ(AddOpaqueOptions, "LiteRtAddOpaqueOptions"),
    REQ(CreateCompiledModel, "LiteRtCreateCompiledModel"),
    REQ(DestroyCompiledModel, "LiteRtDestroyCompiledModel"),
    REQ(RunCompiledModel, "LiteRtRunCompiledModel"),
    REQ(GetInputBufferRequirements, "LiteRtGetCompiledModelInputBufferRequirements"),
    REQ(GetOutputBufferRequirements, "LiteRtGetCompiledModelOutputBufferRequirements"),
    REQ(GetRequirementsBufferSize, "LiteRtGetTensorBufferRequirementsBufferSize"),
    REQ(GetRequirementsNumTypes, "LiteRtGetNumTensorBufferRequirementsSupportedBufferTypes"),
    REQ(GetRequirementsType, "LiteRtGetTensorBufferRequirementsSupportedTensorBufferType"),
    REQ(CreateManagedTensorBuffer, "LiteRtCreateManagedTensorBuffer"),
    REQ(DestroyTensorBuffer, "LiteRtDestroyTensorBuffer"),
    REQ(LockTensorBuffer, "LiteRtLockTensorBuffer"),
    REQ(UnlockTensorBuffer, "LiteRtUnlockTensorBuffer"),
    OPT(GetSignatureInputTensorByIndex, "LiteRtGetSignatureInputTensorByIndex"),
    OPT(GetSignatureOutputTensorByIndex, "LiteRtGetSignatureOutputTensorByIndex"),
    OPT(GetTensorName, "LiteRtGetTensorName"),
    OPT(GetSignatureSubgraph, "LiteRtGetSignatureSubgraph"),
    OPT(GetNumSubgraphOps, "LiteRtGetNumSubgraphOps"),
    OPT(GetSubgraphOp, "LiteRtGetSubgraphOp"),
    OPT(GetOpCode, "LiteRtGetOpCode"),
    OPT(GetCustomCode, "LiteRtGetCustomCode"),
    OPT(ResizeInputTensor, "LiteRtCompiledModelResizeInputTensor"),
    OPT(GetOutputTensorLayouts, "LiteRtGetCompiledModelOutputTensorLayouts"),
    OPT(GetInputTensorLayout, "LiteRtGetCompiledModelInputTensorLayout"),
    OPT(IsFullyAccelerated, "LiteRtCompiledModelIsFullyAccelerated"),
    OPT(GetProfiler, "LiteRtCompiledModelGetProfiler"),
    OPT(StartProfiler, "LiteRtStartProfiler"),
    OPT(StopProfiler, "LiteRtStopProfiler"),
    OPT(ResetProfiler, "LiteRtResetProfiler"),
    OPT(GetNumProfilerEvents, "LiteRtGetNumProfilerEvents"),
    OPT(GetProfilerEvents, "LiteRtGetProfilerEvents"),
    OPT(GetNumAccelerators, "LiteRtGetNumAccelerators"),
    OPT(GetAccelerator, "LiteRtGetAccelerator"),
    OPT(GetAcceleratorName, "LiteRtGetAcceleratorName"),
    OPT(GetAcceleratorHardwareSupport, "LiteRtGetAcceleratorHardwareSupport"),
    OPT(GetQuantizationTypeId, "LiteRtGetQuantizationTypeId"),
    OPT(GetPerTensorQuantization, "LiteRtGetPerTensorQuantization"),
};

int lr_api_load(lr_api *api, const char *path, char *err, size_t err_len) {
  memset(api, 0, sizeof(*api));
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL) {
    const char *why = dlerror();
    snprintf(err, err_len,
             "cannot load the LiteRT runtime library %s: %s; pass --lib with "
             "the path of a libLiteRt.so built for this device's ABI",
             path, why ? why : "unknown dlopen error");
    return -1;
  }
  char missing[512] = "";
  size_t missing_count = 0;
  for (size_t i = 0; i < sizeof(kSymbols) / sizeof(kSymbols[0]); ++i) {
    void *fn = dlsym(handle, kSymbols[i].name);
    if (fn == NULL && kSymbols[i].required) {
      if (missing_count++ < 4) {
        size_t used = strlen(missing);
        snprintf(missing + used, sizeof(missing) - used, "%s%s",
                 used ? ", " : "", kSymbols[i].name);
      }
    }
    /* Every table field is a function pointer (or void*) of the same size. */
    memcpy((char *)api + kSymbols[i].offset, &fn, sizeof(fn));
  }
  if (missing_count > 0) {
    snprintf(err, err_len,
             "%s does not look like a LiteRT runtime with the CompiledModel C "
             "API: %zu required symbol(s) missing (%s%s); expected a "
             "libLiteRt.so from ai-edge-litert >= 2.0 (it exports "
             "LiteRtCreateCompiledModel); use that library with --lib",
             path, missing_count, missing, missing_count > 4 ? ", ..." : "");
    dlclose(handle);
    return -1;
  }
  if (dlsym(handle, LR_MARKER_2_2) != NULL) {
    api->generation = LR_GEN_2_2_PLUS;
    api->generation_evidence = "exports " LR_MARKER_2_2;
  } else if (dlsym(handle, LR_MARKER_NEWER) != NULL) {
    snprintf(err, err_len,
             "cannot tell which LiteRT API generation %s is: it exports %s "
             "(added after LiteRT 2.2) but not %s (present in every 2.2+ "
             "release), so the argument list of LiteRtCreateModelFromFile is "
             "unknown; use a libLiteRt.so from an ai-edge-litert release this "
             "runner knows (2.0 to 2.3) or update the runner",
             path, LR_MARKER_NEWER, LR_MARKER_2_2);
    dlclose(handle);
    return -1;
  } else {
    api->generation = LR_GEN_PRE_2_2;
    api->generation_evidence = "core API present, " LR_MARKER_2_2 " absent";
  }
  api->handle = handle;
  return 0;
}

lr_status lr_create_model_from_file(const lr_api *api, lr_environment env,
                                    const char *path, lr_model *model) {
  if (api->generation == LR_GEN_2_2_PLUS) {
    lr_status (*fn)(lr_environment, const char *, lr_model *);
    memcpy(&fn, &api->CreateModelFromFile, sizeof(fn));
    return fn(env, path, model);
  }
  if (api->generation == LR_GEN_PRE_2_2) {
    lr_status (*fn)(const char *, lr_model *);
    memcpy(&fn, &api->CreateModelFromFile, sizeof(fn));
    return fn(path, model);
  }
  return 1; /* kLiteRtStatusErrorInvalidArgument: never called unidentified */
}

const char *lr_generation_name(lr_generation generation) {
  switch (generation) {
    case LR_GEN_2_2_PLUS:
      return "2.2+";
    case LR_GEN_PRE_2_2:
      return "pre-2.2";
    default:
      return "unknown";
  }
}

const char *lr_status_name(lr_status status) {
  switch (status) {
    case 0: return "Ok";
    case 1: return "ErrorInvalidArgument";
    case 2: return "ErrorMemoryAllocationFailure";
    case 3: return "ErrorRuntimeFailure";
    case 4: return "ErrorMissingInputTensor";
    case 5: return "ErrorUnsupported";
    case 6: return "ErrorNotFound";
    case 7: return "ErrorTimeoutExpired";
    case 8: return "ErrorWrongVersion";
    case 9: return "ErrorUnknown";
    case 10: return "ErrorAlreadyExists";
    case 100: return "Cancelled";
    case 500: return "ErrorFileIO";
    case 501: return "ErrorInvalidFlatbuffer";
    case 502: return "ErrorDynamicLoading";
    case 503: return "ErrorSerialization";
    case 504: return "ErrorCompilation";
    case 1000: return "ErrorIndexOOB";
    case 1001: return "ErrorInvalidIrType";
    case 1002: return "ErrorInvalidGraphInvariant";
    case 1003: return "ErrorGraphModification";
    case 4000: return "ErrorUnsupportedRuntimeVersion";
    case 4001: return "ErrorUnsupportedCompilerVersion";
    case 4002: return "ErrorIncompatibleByteCodeVersion";
    default: return "Unknown";
  }
}
