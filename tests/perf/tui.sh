#!/usr/bin/env bash
# Start to first frame of the workbench, process start included: `ork tui DIR` in a
# pseudo-terminal (script(1)) on every demo, drawing its first frame (after the first
# validation) and quitting (the hidden --exit-after-first-frame). Needs hyperfine and script
# (util-linux). Budget (ARCHITECTURE.md §7): < 150 ms. The time includes script's own start.
source "$(dirname "$0")/common.sh"
command -v script >/dev/null || { echo "script (util-linux) is required" >&2; exit 2; }
args=()
for f in $demos; do
  d=$(dirname "$f")
  args+=(-n "$(basename "$d")" "script -qec '$ork tui $d --exit-after-first-frame' /dev/null")
done
hyperfine -N --warmup 3 --min-runs 30 --export-markdown "${1:-/dev/stdout}" "${args[@]}"
