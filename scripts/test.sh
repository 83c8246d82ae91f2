#!/usr/bin/env bash
# Installs what the tests need, then runs the whole test suite. `.ci/run` calls this script;
# README.md shows it as the test command. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(gcc)
command -v git >/dev/null 2>&1 || need_apt+=(git)
# The dev-cluster conformance test drives the real kubectl; curl asks it what kubectl cannot
# (anonymous requests, raw YAML bodies).
command -v kubectl >/dev/null 2>&1 || need_apt+=(kubectl)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
# The workbench test drives the real `ork tui` in a terminal.
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
# The OCI distribution tests push to and pull from Debian's docker-registry (CNCF
# distribution) on 127.0.0.1, read what was pushed with skopeo (a client independent of ork's),
# and make the registry's htpasswd file with apache2-utils' htpasswd.
command -v docker-registry >/dev/null 2>&1 || need_apt+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need_apt+=(skopeo)
command -v htpasswd >/dev/null 2>&1 || need_apt+=(apache2-utils)
# The image tests check that the release binaries are static with file(1).
command -v file >/dev/null 2>&1 || need_apt+=(file)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-venv)
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  need_apt+=(python3-venv)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
  else
    echo "missing tools: ${need_apt[*]} (install them, or run as root)" >&2
    exit 2
  fi
fi
command -v cargo >/dev/null 2>&1 || { echo "cargo is required (https://rustup.rs)" >&2; exit 2; }
for component in rustfmt clippy; do
  sub=${component/rustfmt/fmt}
  if ! cargo "$sub" --version >/dev/null 2>&1; then
    command -v rustup >/dev/null 2>&1 && rustup component add "$component"
    cargo "$sub" --version >/dev/null 2>&1 || { echo "cargo $sub is required (rustup component add $component)" >&2; exit 2; }
  fi
done

# Python tools the tests run for real, pinned, in .venv/ at the repository root (gitignored):
# kubernetes-validate checks every manifest ork renders against the Kubernetes schemas, and its
# OpenAPI definitions are the source of the dev cluster's patch schema
# (scripts/gen-patch-schema.py; a test regenerates it).
KUBERNETES_VALIDATE=1.37.0
if [ "$(.venv/bin/kubernetes-validate --version 2>/dev/null)" != "$KUBERNETES_VALIDATE" ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE"
fi
# The OCI tests' second client (tests/support/oci_read.py): PyPI oras pushes and pulls artifacts
# independently of ork's code, and cryptography checks the signatures `ork push --sign-key`
# writes.
ORAS=0.2.43
CRYPTOGRAPHY=50.0.2
if [ "$(.venv/bin/python -c 'from importlib.metadata import version as v; print(v("oras"), v("cryptography"))' 2>/dev/null)" != "$ORAS $CRYPTOGRAPHY" ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check "oras==$ORAS" "cryptography==$CRYPTOGRAPHY"
fi
# Real Helm for the chart tests (tests/support/helm_chart.py): Helm's Go SDK as a library, with
# no helm binary.
HELM_PYTHON_SDK=0.2.2
if [ "$(.venv/bin/python -c 'from importlib.metadata import version as v; print(v("helm-python-sdk"))' 2>/dev/null)" != "$HELM_PYTHON_SDK" ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check "helm-python-sdk==$HELM_PYTHON_SDK"
fi
# The peers benchmark's third contender (tests/perf/peers.sh, not part of this run): kopf and
# the Kubernetes client its handler (tests/perf/peers/kopf_site.py) creates children with.
KOPF=1.45.2
KUBERNETES_CLIENT=37.0.2
if [ "$(.venv/bin/python -c 'from importlib.metadata import version as v; print(v("kopf"), v("kubernetes"))' 2>/dev/null)" != "$KOPF $KUBERNETES_CLIENT" ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check "kopf==$KOPF" "kubernetes==$KUBERNETES_CLIENT"
fi

# Style and lints are part of the suite: a change that is not formatted or that clippy warns
# about fails here, as it would in review.
cargo fmt --all --check
cargo clippy -j2 --workspace --all-targets -- -D warnings
# `services::serve` is what ork-gateway will build on: it must compile without the runtime or
# the dev cluster (a workspace build would unify features and hide a missing gate).
cargo check -j2 -p services --no-default-features --features serve --lib

# The integration tests drive the real `ork` binary; build it first so its build time is not
# charged to the first test.
cargo build -j2 -p ork-tui
log=$(mktemp); trap 'rm -f "$log"' EXIT
set +e
cargo test -j2 --workspace --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line with the totals over every test binary (doc-test runs with no tests would
# otherwise be the last line printed).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "all tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
