#!/usr/bin/env bash
# CUDA backend on a GPU machine that has nvcc but no Node and no node_modules
# (this workplace's device machines). Two steps:
#
#   bash bench/cuda-device.sh pack                  # here: fills .gpu/ (git-excluded)
#   bash bench/cuda-device.sh run [bench sections]  # there, with .gpu/ carried
#
# pack: xz-compressed node binary, the Node headers (for N-API), and
# self-contained esbuild bundles of bench/cuda-check.ts and bench/cuda-bench.ts.
# run: unpacks node, builds the CUDA addon with scripts/build-cuda.mjs
# (--strict), builds the CPU native addon with g++ when its sources are there,
# runs the equality check and then the benchmark; logs and JSON go to $OUT.
set -u -o pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
shift || true

if [ "$mode" = pack ]; then
  set -e
  mkdir -p .gpu .git/info
  grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
  node_bin=$(command -v node)
  if [ ! -s .gpu/node.xz ] || [ "$node_bin" -nt .gpu/node.xz ]; then xz -9 -T2 -c "$node_bin" > .gpu/node.xz; fi
  inc=$(dirname "$(dirname "$(readlink -f "$node_bin")")")/include/node
  [ -f "$inc/node_api.h" ] || inc=/usr/include/node
  tar -C "$(dirname "$inc")" -cJf .gpu/node-include.tar.xz node
  echo "$(git rev-parse --short HEAD) (+$(git status --porcelain | wc -l) uncommitted files)" > .gpu/commit.txt
  for f in cuda-check cuda-bench; do
    npx esbuild --bundle --platform=node --format=esm --log-level=warning "bench/$f.ts" --outfile=".gpu/$f.mjs"
  done
  du -sh .gpu
  exit 0
fi

if [ "$mode" != run ]; then echo "usage: $0 pack | run [sections]" >&2; exit 2; fi

OUT=${OUT:-.bench-out}
export OUT
mkdir -p "$OUT"
G=/tmp/gpu-node
mkdir -p $G/bin $G/include
xz -dc .gpu/node.xz > $G/bin/node && chmod +x $G/bin/node
tar -C $G/include -xJf .gpu/node-include.tar.xz
export PATH=$G/bin:$PATH:/usr/local/cuda/bin
echo "node $(node --version); $(nvcc --version | tail -1)"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.limit --format=csv
lscpu | grep -E 'Model name|^CPU\(s\)' || true

node scripts/build-cuda.mjs --strict --force 2>&1 | tee "$OUT/build.log" || { echo "CUDA addon build failed"; exit 1; }

if ls protocol/kernels/native/*.cc >/dev/null 2>&1; then
  if g++ -O3 -std=c++17 -fexceptions -shared -fPIC -pthread -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS \
      -I$G/include/node protocol/kernels/native/*.cc -o /tmp/securenn_kernels.node 2>>"$OUT/build.log"; then
    export MPC_NATIVE_ADDON=/tmp/securenn_kernels.node
    echo "CPU native addon built with g++" | tee -a "$OUT/build.log"
  else
    echo "CPU native addon did not build with g++: the TS kernels are the CPU side" | tee -a "$OUT/build.log"
  fi
fi

BENCH_COMMIT=$(cat .gpu/commit.txt 2>/dev/null || echo unknown)
export BENCH_COMMIT
echo "bundles packed from $BENCH_COMMIT"
node .gpu/cuda-check.mjs 2>&1 | tee "$OUT/check.log"
check=$?
node .gpu/cuda-bench.mjs "$@" 2>&1 | tee "$OUT/bench.log"
bench=$?
echo "check exit $check, bench exit $bench"
exit $(( check != 0 ? check : bench ))
