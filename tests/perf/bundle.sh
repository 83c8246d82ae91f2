#!/usr/bin/env bash
# Benchmarks RBAC derivation through the CLI (process start included): `ork generate bundle` on
# every demo and on a generated 200-CRD Katalog, and `ork validate --full` on the latter. Needs
# hyperfine (Debian package). No budget in ARCHITECTURE.md §7; held to validate's (< 20 ms/demo).
source "$(dirname "$0")/common.sh"
args=()
for f in $demos; do
  args+=(-n "$(basename "$(dirname "$f")")" "$ork generate bundle -f $f -o $tmp/out.yaml")
done
args+=(-n "generated-200-crds: generate bundle" "$ork generate bundle -f $tmp/k200.yaml -o $tmp/out.yaml")
args+=(-n "generated-200-crds: validate --full" "$ork validate --full -f $tmp/k200.yaml")
hyperfine -N --warmup 5 --min-runs 50 --export-markdown "${1:-/dev/stdout}" "${args[@]}"
