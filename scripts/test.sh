#!/usr/bin/env bash
# Installs what the tests need, then runs the whole test suite. `.ci/run` calls this script;
# README.md shows it as the test command. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(gcc)
command -v git >/dev/null 2>&1 || need_apt+=(git)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
  else
    echo "missing tools: ${need_apt[*]} (install them, or run as root)" >&2
    exit 2
  fi
fi
command -v cargo >/dev/null 2>&1 || { echo "cargo is required (https://rustup.rs)" >&2; exit 2; }

# The integration tests drive the real `ork` binary; build it first so its build time is not
# charged to the first test.
cargo build -j2 -p ork-tui
cargo test -j2 --workspace --no-fail-fast
