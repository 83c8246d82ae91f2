#!/usr/bin/env bash
# Benchmarks `ork simulate` (process start included) on every demo's simulate files. Needs
# hyperfine (Debian package). Budget (ARCHITECTURE.md §7): < 50 ms per demo for 5 cycles.
source "$(dirname "$0")/common.sh"
args=()
for f in $(find demos -name '*simulate.yaml' | sort); do
  args+=(-n "$(basename "$(dirname "$f")")/$(basename "$f")" "$ork simulate -f $f")
done
hyperfine -N --warmup 5 --min-runs 50 --export-markdown "${1:-/dev/stdout}" "${args[@]}"
