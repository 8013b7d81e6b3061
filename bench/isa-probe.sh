#!/usr/bin/env bash
# Builds bench/isa-probe.cc with the x86 GEMM micro-kernels and runs it pinned to one CPU:
#   bash bench/isa-probe.sh [cpu=1]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=protocol/kernels/native
g++ -O2 -std=c++17 -Wno-psabi bench/isa-probe.cc "$n/gemm-x86.cc" "$n/gemm-portable.cc" -o "$out/isa-probe"
echo "isa-probe $(date -u +%FT%TZ), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
taskset -c "${1:-1}" "$out/isa-probe"
