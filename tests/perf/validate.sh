#!/usr/bin/env bash
# Benchmarks `ork validate` (process start included) on every demo and on a generated 200-CRD
# Katalog. Needs hyperfine (Debian package). Prints hyperfine's table; budget: < 20 ms per demo.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v hyperfine >/dev/null || { echo "hyperfine is required: apt-get install hyperfine" >&2; exit 2; }
cargo build -q -j2 --release -p ork-tui
ork="$PWD/target/release/ork"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 tests/perf/gen_katalog.py 200 > "$tmp/k200.yaml"
args=()
for f in $(find demos -name katalog.yaml -not -path '*/invalid/*' -not -path '*/katalogs/*' | sort) demos/intermediate/komposer-platform/komposer.yaml; do
  args+=(-n "$(basename "$(dirname "$f")")" "$ork validate -f $f")
done
args+=(-n "generated-200-crds" "$ork validate -f $tmp/k200.yaml")
hyperfine -N --warmup 5 --min-runs 50 --export-markdown "${1:-/dev/stdout}" "${args[@]}"
