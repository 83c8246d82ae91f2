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
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-unknown-linux-gnu
tag=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
version=$tag
out=target/images
build=1
push=""
insecure=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag=${2:?--tag needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --no-build) build=0; shift ;;
    --push) push=${2:?--push needs a registry (host:port)}; shift 2 ;;
    --insecure) insecure=1; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if ! [[ $tag =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
  echo "error: --tag $tag: not an image tag (letters, digits, _ . -; at most 128)" >&2
  exit 2
fi

images=("ork-runtime:run" "ork-gateway:gate")
for image in "${images[@]}"; do
  bin=${image%%:*}
  if [ "$build" = 1 ]; then
    # Static (crt-static on the gnu target: glibc's allocator, and since glibc 2.34 the files
    # and dns name services are inside libc). --target keeps the flag off build scripts and
    # proc macros.
    RUSTFLAGS="-C target-feature=+crt-static" cargo build -q -j2 --release --target "$TARGET" -p "$bin"
  fi
  path="target/$TARGET/release/$bin"
  if [ ! -x "$path" ]; then
    echo "error: $path is missing: run without --no-build" >&2
    exit 2
  fi
done

mkdir -p "$out"
for image in "${images[@]}"; do
  bin=${image%%:*}
  cmd=${image#*:}
  rm -rf "${out:?}/$bin"
  python3 scripts/oci-image.py --binary "target/$TARGET/release/$bin" --command "$cmd" --tag "$tag" --version "$version" --out "$out/$bin"
done

if [ -n "$push" ]; then
  command -v skopeo >/dev/null 2>&1 || { echo "error: skopeo is required to push (apt-get install skopeo)" >&2; exit 2; }
  flags=()
  [ "$insecure" = 1 ] && flags+=(--dest-tls-verify=false)
  authdir=$(mktemp -d)
  trap 'rm -rf "$authdir"' EXIT
  if [ -n "${ORK_REGISTRY_USERNAME:-}" ]; then
    : "${ORK_REGISTRY_PASSWORD:?ORK_REGISTRY_USERNAME is set but ORK_REGISTRY_PASSWORD is not}"
    umask 077
    auth=$(printf '%s:%s' "$ORK_REGISTRY_USERNAME" "$ORK_REGISTRY_PASSWORD" | base64 -w0)
    printf '{"auths":{"%s":{"auth":"%s"}}}' "$push" "$auth" > "$authdir/auth.json"
    flags+=(--dest-authfile "$authdir/auth.json")
  fi
  for image in "${images[@]}"; do
    bin=${image%%:*}
    skopeo copy -q "${flags[@]}" "oci:$out/$bin:$tag" "docker://$push/$bin:$tag"
    echo "pushed $push/$bin:$tag"
  done
fi
