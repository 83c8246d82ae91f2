#!/usr/bin/env bash
# Benchmarks `ork validate` (process start included) on every demo and on a generated 200-CRD
# Katalog. Needs hyperfine (Debian package). Prints hyperfine's table; budget: < 20 ms per demo.
source "$(dirname "$0")/common.sh"
args=()
for f in $demos; do
  args+=(-n "$(basename "$(dirname "$f")")" "$ork validate -f $f")
done
args+=(-n "generated-200-crds" "$ork validate -f $tmp/k200.yaml")
hyperfine -N --warmup 5 --min-runs 50 --export-markdown "${1:-/dev/stdout}" "${args[@]}"
