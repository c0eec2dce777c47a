#!/usr/bin/env bash
# GPU acceptance run: the whole test suite with CUDA required, then `info --json` and
# `bench all`. Writes test.log, info.json, bench.json and bench.txt into OUTDIR. The benchmarks
# run even when tests fail; the exit status is non-zero when any step failed.
# Usage: bench/gpu-check.sh OUTDIR   (from the package root, after the TS and native builds)
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."

# The GPU machine may have node but no npm: call mocha directly when it is installed.
if [ -x node_modules/.bin/mocha ]; then
  MOCHA=(node_modules/.bin/mocha)
else
  MOCHA=(npx mocha)
fi

status=0
RECON_KERNELS_REQUIRE_CUDA=1 "${MOCHA[@]}" 2>&1 | tee "$OUT/test.log" || { echo "gpu-check: tests failed" >&2; status=1; }
node dist/bench/cli.js info --json > "$OUT/info.json" || { echo "gpu-check: info failed" >&2; status=1; }
node dist/bench/cli.js bench all --json "$OUT/bench.json" | tee "$OUT/bench.txt" || { echo "gpu-check: bench failed" >&2; status=1; }
exit $status
