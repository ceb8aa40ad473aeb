#!/usr/bin/env bash
# The GPU checks of the CUDA backend, in one run, on a machine with an NVIDIA GPU (made for the device
# tool's nvidia-h200: CUDA 13, CMake, PyTorch + transformers, 16 cores, no JDK, no network). Prepare
# .gpu/ first on the development machine (native/tools/gpu-prepare.sh) and carry it.
#
#   1 build     CMake + nvcc for this GPU's architecture: libpanopt, libpanopt_cuda, the tests, gpu_bench
#   2 tests     ctest: cuda_host, cuda (must pass here, not skip), api, forward
#   3 sanitize  compute-sanitizer memcheck and racecheck over the small CUDA cases (PANOPT_CUDA_TESTS=small)
#   4 conform   every conformance fixture on cuda:0 (conformance's checker, on the carried Java runtime)
#   5 bench     panopt (gpu_bench) against PyTorch eager at opt-1.3b and opt-6.7b shapes, random F16
#               weights: decode tok/s at batch 1 and 16 after a 128-token prompt, prefill of 2048 tokens
# Every step runs even when one before it failed (except after a failed build); logs go to $OUT (the
# device tool's folder, else /tmp/gpu-check); a summary is printed last; the exit status is 0 only
# when the steps run passed (a slower run than PyTorch is a finding, not a failure).
# Usage (repository root): bash native/tools/gpu-check.sh [--no-bench | --bench-only]
# Within the device tool's 10 minutes a call, run it as two calls on one warm machine (the build
# directory, native/build-gpu, stays between them): --no-bench, then --bench-only.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root="$PWD"
out="${OUT:-/tmp/gpu-check}"
mkdir -p "$out"
build=native/build-gpu
bench=1
checks=1
case "${1:-}" in
  --no-bench) bench=0 ;;
  --bench-only) checks=0 ;;
  "") ;;
  *) echo "usage: native/tools/gpu-check.sh [--no-bench | --bench-only]" >&2; exit 2 ;;
esac
declare -a summary
status=0
step() { # name, command...: runs it with its log in $out/<name>.log, records PASS/FAIL and the time
  local name="$1"; shift
  local t0=$SECONDS
  echo "== $name: $*"
  if "$@" >"$out/$name.log" 2>&1; then
    summary+=("$(printf '%-10s PASS %4ds' "$name" $((SECONDS - t0)))")
  else
    summary+=("$(printf '%-10s FAIL %4ds  (%s)' "$name" $((SECONDS - t0)) "$out/$name.log")")
    tail -n 25 "$out/$name.log"
    return 1
  fi
}

nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader | tee "$out/gpu.txt"
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n 1 | tr -d '. ')

configure_and_build() {
  cmake -S native -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPANOPT_GLIBC_SYSROOT=OFF \
    -DPANOPT_CUDA_ARCHITECTURES="${arch:-90}" &&
    cmake --build "$build" --parallel "$(nproc)"
}
if ! step build configure_and_build; then
  printf '%s\n' "${summary[@]}"
  exit 1
fi

run_tests() {
  ctest --test-dir "$build" -R '^(cuda_host|cuda|api|forward)$' --output-on-failure 2>&1 | tee "$out/ctest.txt"
  [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
  ! grep -q "Skipped" "$out/ctest.txt" # on a GPU machine the CUDA suite must run, not skip
}
if [ "$checks" = 1 ]; then
step tests run_tests || status=1

sanitize() { # memcheck: out-of-bounds and misaligned accesses; racecheck: shared-memory hazards
  PANOPT_CUDA_TESTS=small compute-sanitizer --tool memcheck --error-exitcode 3 "$build/panopt_tests" cuda &&
    PANOPT_CUDA_TESTS=small compute-sanitizer --tool racecheck --error-exitcode 3 "$build/panopt_tests" cuda
}
step sanitize sanitize || status=1

conformance() {
  [ -f .gpu/jdk.tar.xz ] || { echo "no .gpu/jdk.tar.xz: run native/tools/gpu-prepare.sh and carry .gpu"; return 1; }
  rm -rf /tmp/panopt-jdk && mkdir -p /tmp/panopt-jdk && tar xJf .gpu/jdk.tar.xz -C /tmp/panopt-jdk &&
    /tmp/panopt-jdk/jdk/bin/java --enable-native-access=ALL-UNNAMED -Dpanopt.library.path="$root/$build/libpanopt.so" \
      -cp ".gpu/java/conformance:.gpu/java/java-api:.gpu/java/bindings:.gpu/java/lib/*" \
      dev.panopt.conformance.Check conformance/fixtures --device cuda:0
}
step conform conformance || status=1
fi

if [ "$bench" = 1 ]; then
  benchmarks() {
    local shape
    for shape in opt-1.3b opt-6.7b; do
      "$build/panopt_gpu_bench" --shape "$shape" --dtype f16 --batches 1,16 --context 128 --steps 64 --prefill 2048 || return 1
      PYTHONUNBUFFERED=1 python3 native/tools/bench_torch.py --shape "$shape" --dtype f16 --batches 1,16 \
        --context 128 --steps 64 --prefill 2048 || return 1
    done
    "$build/panopt_gpu_bench" --shape opt-6.7b --dtype q8_0 --batches 1,16 --prefill 2048 || return 1
    "$build/panopt_gpu_bench" --shape opt-6.7b --dtype q4_0 --batches 1,16 --prefill 2048 || return 1
  }
  step bench benchmarks || status=1
  grep '^{' "$out/bench.log" >"$out/bench.jsonl"
  python3 - "$out/bench.jsonl" <<'EOF' | tee "$out/bench-table.txt"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"{'engine':<12} {'shape':<9} {'dtype':<5} {'what':<8} {'batch':>5} {'tok/s':>10} {'ms':>9}")
for r in rows:
    print(f"{r['engine']:<12} {r['shape']:<9} {r['dtype']:<5} {r['what']:<8} {r['batch']:>5} {r['tok_per_s']:>10.1f} {r['ms']:>9.2f}")
EOF
fi

echo "== summary (logs in $out)"
printf '%s\n' "${summary[@]}"
exit $status
