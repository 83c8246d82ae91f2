#!/usr/bin/env bash
# Builds the production images of ork-runtime and ork-gateway without a container daemon:
# each binary as a static release build on its own (one `cargo build -p` per binary, so the
# `services` features of one never reach the other), then one OCI image layout per binary
# (scripts/oci-image.py), optionally pushed to a registry with skopeo. The Dockerfiles next to
# the binaries build the same images where Docker exists (docs/images.md).
#
#   scripts/build-images.sh [--tag TAG] [--out DIR] [--no-build] [--push REGISTRY [--insecure]]
#
#   --tag TAG          image tag (default: the workspace version)
#   --out DIR          where the OCI layouts go (default: target/images)
#   --no-build         use the binaries already built (fails if they are missing)
#   --push REGISTRY    push to REGISTRY/ork-runtime:TAG and REGISTRY/ork-gateway:TAG
#                      (credentials: $ORK_REGISTRY_USERNAME and $ORK_REGISTRY_PASSWORD when set,
#                      handed to skopeo in a private auth file, never on a command line)
#   --insecure         plain HTTP / unverified TLS to the registry (a local test registry)
#
# Prints one JSON line per image: its manifest digest, the binary's size and the layer's size
# compressed and not. Honours CARGO_TARGET_DIR, and CARGO_BUILD_JOBS (default 2).
set -euo pipefail
caller=$(pwd)
cd "$(dirname "$0")/.."

# Paths given relative to where the script was started from, not to the workspace root.
absolute() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$caller" "$1" ;; esac; }

TARGET=x86_64-unknown-linux-gnu
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
target_dir=target
[ -n "${CARGO_TARGET_DIR:-}" ] && target_dir=$(absolute "$CARGO_TARGET_DIR")
jobs=${CARGO_BUILD_JOBS:-2}
tag=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
version=$tag
out=target/images
build=1
push=""
insecure=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag=${2:?--tag needs a value}; shift 2 ;;
    --out) out=$(absolute "${2:?--out needs a directory}"); shift 2 ;;
    --no-build) build=0; shift ;;
    --push) push=${2:?--push needs a registry (host[:port][/namespace])}; shift 2 ;;
    --insecure) insecure=1; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if ! [[ $tag =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
  echo "error: --tag $tag: not an image tag (letters, digits, _ . -; at most 128)" >&2
  exit 2
fi
# The registry also becomes a key of the JSON auth file: a reference's host and path only.
if [ -n "$push" ] && ! [[ $push =~ ^[A-Za-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*$ ]]; then
  echo "error: --push $push: not a registry (host[:port][/namespace], e.g. 127.0.0.1:5000 or ghcr.io/orkspace)" >&2
  exit 2
fi

# Everything the steps after the build need, checked before a build of minutes.
command -v python3 >/dev/null 2>&1 || { echo "error: python3 is required to write the image layouts (apt-get install python3)" >&2; exit 2; }
[ -r "$CA_BUNDLE" ] || { echo "error: $CA_BUNDLE is missing: the images carry the build machine's CA certificates (apt-get install ca-certificates)" >&2; exit 2; }
if [ -n "$push" ]; then
  command -v skopeo >/dev/null 2>&1 || { echo "error: skopeo is required to push (apt-get install skopeo)" >&2; exit 2; }
  if [ -n "${ORK_REGISTRY_USERNAME:-}" ] && [ -z "${ORK_REGISTRY_PASSWORD:-}" ]; then
    echo "error: ORK_REGISTRY_USERNAME is set but ORK_REGISTRY_PASSWORD is not" >&2
    exit 2
  fi
fi

images=("ork-runtime:run" "ork-gateway:gate")
for image in "${images[@]}"; do
  bin=${image%%:*}
  if [ "$build" = 1 ]; then
    # Static (crt-static on the gnu target: glibc's allocator, and since glibc 2.34 the files
    # and dns name services are inside libc). --target keeps the flag off build scripts and
    # proc macros. One package per cargo invocation: a build of both unifies their features.
    RUSTFLAGS="-C target-feature=+crt-static" cargo build -q -j "$jobs" --release --target "$TARGET" -p "$bin"
  fi
  path="$target_dir/$TARGET/release/$bin"
  if [ ! -x "$path" ]; then
    echo "error: $path is missing: run without --no-build (or build it: RUSTFLAGS=\"-C target-feature=+crt-static\" cargo build --release --target $TARGET -p $bin)" >&2
    exit 2
  fi
done

mkdir -p "$out"
for image in "${images[@]}"; do
  bin=${image%%:*}
  cmd=${image#*:}
  rm -rf "${out:?}/$bin"
  python3 scripts/oci-image.py --binary "$target_dir/$TARGET/release/$bin" --command "$cmd" --tag "$tag" --version "$version" --out "$out/$bin"
done

if [ -n "$push" ]; then
  flags=()
  [ "$insecure" = 1 ] && flags+=(--dest-tls-verify=false)
  if [ -n "${ORK_REGISTRY_USERNAME:-}" ]; then
    # An auth file readable by this user only, rather than --dest-creds: a command line is
    # visible to every user of the machine (ps, /proc/PID/cmdline).
    authdir=$(mktemp -d)
    trap 'rm -rf "$authdir"' EXIT
    auth=$(printf '%s:%s' "$ORK_REGISTRY_USERNAME" "$ORK_REGISTRY_PASSWORD" | base64 -w0)
    (umask 077 && printf '{"auths":{"%s":{"auth":"%s"}}}' "$push" "$auth" > "$authdir/auth.json")
    flags+=(--dest-authfile "$authdir/auth.json")
  fi
  for image in "${images[@]}"; do
    bin=${image%%:*}
    skopeo copy -q "${flags[@]}" "oci:$out/$bin:$tag" "docker://$push/$bin:$tag"
    echo "pushed $push/$bin:$tag" >&2
  done
fi
