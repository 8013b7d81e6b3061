# Native kernels addon (protocol/kernels/native/), built by scripts/build-addon.mjs
# during `npm ci`. Output: build/Release/securenn_kernels.node, loaded by
# protocol/kernels/native.ts. Portable baseline (-O3, no -march=native): on
# x86-64 the AVX2 and AVX-512 GEMM kernels (gemm-x86.cc) are compiled per
# function with __attribute__((target(...))) and chosen at run time from cpuid;
# on arm64 gemm-arm.cc holds the NEON kernel (baseline ARMv8-A) and gemm-x86.cc
# compiles to nothing (and gemm-arm.cc to nothing on x86). gemm-check.cc is a
# standalone driver (scripts/check-arm64.sh), not part of the addon.
# The CUDA backend is a separate addon built with nvcc by scripts/build-cuda.mjs
# (protocol/kernels/cuda/), not a target here. prg.cc: AES-NI AES-128-CTR for
# the PRG, used only when cpuid reports AES-NI.
{
  "targets": [
    {
      "target_name": "securenn_kernels",
      "sources": [
        "protocol/kernels/native/binding.cc",
        "protocol/kernels/native/binding128.cc",
        "protocol/kernels/native/gemm.cc",
        "protocol/kernels/native/gemm-portable.cc",
        "protocol/kernels/native/gemm-x86.cc",
        "protocol/kernels/native/gemm-arm.cc",
        "protocol/kernels/native/ops.cc",
        "protocol/kernels/native/prg.cc",
        "protocol/kernels/native/ring128.cc"
      ],
      "cflags!": ["-O2", "-O0"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-O2", "-O0"],
      "cflags": ["-O3"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O3"],
      "ldflags": ["-pthread"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "ExceptionHandling": 1 }
      }
    }
  ]
}
