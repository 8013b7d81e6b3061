#!/usr/bin/env bash
# Builds the native kernels for arm64 on an x86 machine and checks the GEMM
# there, under qemu-user:
#  1. cross-compiles every source of the addon (binding.gyp's list) with
#     aarch64-linux-gnu-g++ and links them into a shared object, so the addon
#     builds on arm64 (the N-API symbols stay undefined until Node loads it);
#  2. links the standalone equality driver protocol/kernels/native/gemm-check.cc
#     with the same GEMM sources (static) and runs it under qemu-aarch64: every
#     level (scalar, neon) and 1-3 threads against a naive u64 reference on
#     random and edge inputs. A whole Node addon is not run under qemu (no arm64
#     Node here); the driver links the very kernel files the addon does.
# Timings under qemu mean nothing; `--bench` is passed through only to show
# that the bench path runs.
#
# Needs (Debian): g++-aarch64-linux-gnu, qemu-user (or qemu-user-static); the
# Node headers (include/node/node_api.h) for step 1.
# Exit: 0 checked; 1 a build or a check failed; 3 tools missing (the message
# names them; protocol/kernels/gemm-check.test.ts skips on 3).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/protocol/kernels/native"
cxx="${AARCH64_CXX:-aarch64-linux-gnu-g++}"
qemu="${QEMU_AARCH64:-}"
if [[ -z "$qemu" ]]; then
  for q in qemu-aarch64 qemu-aarch64-static; do
    if command -v "$q" >/dev/null 2>&1; then qemu="$q"; break; fi
  done
fi
missing=()
command -v "$cxx" >/dev/null 2>&1 || missing+=("$cxx (apt-get install g++-aarch64-linux-gnu)")
[[ -n "$qemu" ]] || missing+=("qemu-aarch64 (apt-get install qemu-user)")
nodeinc=""
for d in "${npm_config_nodedir:-}" "$(dirname "$(dirname "$(command -v node 2>/dev/null || echo /usr/bin/node)")")" /usr /usr/local; do
  if [[ -n "$d" && -f "$d/include/node/node_api.h" ]]; then nodeinc="$d/include/node"; break; fi
done
[[ -n "$nodeinc" ]] || missing+=("Node headers (include/node/node_api.h)")
if (( ${#missing[@]} )); then
  echo "check-arm64: missing: ${missing[*]}" >&2
  exit 3
fi

out="$(mktemp -d "${TMPDIR:-/tmp}/check-arm64.XXXXXX")"
trap 'rm -rf "$out"' EXIT
flags=(-O3 -std=c++17 -Wall -Wextra -pthread)

# 1. the addon's sources, as binding.gyp lists them
mapfile -t sources < <(grep -o '"protocol/kernels/native/[^"]*\.cc"' "$root/binding.gyp" | tr -d '"')
objs=()
for s in "${sources[@]}"; do
  o="$out/$(basename "$s" .cc).o"
  "$cxx" "${flags[@]}" -fPIC -I"$nodeinc" -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS -c "$root/$s" -o "$o"
  objs+=("$o")
done
"$cxx" -shared -pthread -o "$out/securenn_kernels.node" "${objs[@]}"
echo "check-arm64: addon sources (${#sources[@]} files) built and linked for arm64 with $cxx"

# 2. the GEMM equality driver under qemu
gemm=()
for s in "${sources[@]}"; do [[ "$(basename "$s")" == gemm*.cc || "$(basename "$s")" == ring128.cc ]] && gemm+=("$root/$s"); done
"$cxx" "${flags[@]}" -static "$src/gemm-check.cc" "${gemm[@]}" -o "$out/gemm-check"
"$qemu" "$out/gemm-check" "$@"
