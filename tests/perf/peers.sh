#!/usr/bin/env bash
# The peers benchmark from one command: the same job (N Site CRs, each → Deployment + Service +
# status.phase Ready) done by raw kube-rs writes, the release ork-runtime and kopf, each on a
# fresh in-process dev cluster; prints one table with the ratios (tests/benches/peers.rs).
#
#   tests/perf/peers.sh [N...] [--only=raw,ork,kopf]     (default N: 1000 3000 10000)
#
# Needs kubectl, and kopf in .venv (scripts/test.sh installs it; or set ORK_KOPF).
set -euo pipefail
cd "$(dirname "$0")/../.."
JOBS="${CARGO_BUILD_JOBS:-1}"
cargo build --release -j"$JOBS" -p ork-runtime
export ORK_RUNTIME_BIN="${ORK_RUNTIME_BIN:-$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/ork-runtime}"
if [ ! -x "${ORK_KOPF:-.venv/bin/kopf}" ]; then
  echo "kopf is not installed in .venv (run scripts/test.sh, or set ORK_KOPF); its rows will say so" >&2
fi
exec cargo bench -j"$JOBS" -p ork-tests --bench peers -- "$@"
