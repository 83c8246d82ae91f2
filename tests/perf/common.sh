# Sourced by the tests/perf/*.sh benchmarks: checks for hyperfine, builds the release `ork`
# ($ork), writes a generated 200-CRD Katalog ($tmp/k200.yaml) and lists the demos ($demos).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
command -v hyperfine >/dev/null || { echo "hyperfine is required: apt-get install hyperfine" >&2; exit 2; }
cargo build -q -j2 --release -p ork-tui
ork="$PWD/target/release/ork"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 tests/perf/gen_katalog.py 200 > "$tmp/k200.yaml"
demos="$(find demos -name katalog.yaml -not -path '*/invalid/*' -not -path '*/katalogs/*' | sort) demos/intermediate/komposer-platform/komposer.yaml"
