#!/usr/bin/env bash
# Benchmarks `ork push` and `ork pull` (process start included) against Debian's docker-registry
# on loopback (plain HTTP): the hello-website demo and a generated 200-CRD Katalog. A cold push
# finds the registry's storage emptied (every blob uploaded); a warm push repeats a tag (blobs
# already there: one HEAD each, then the manifest). Pull includes verifying every digest,
# writing the files, validating the pattern and deriving its RBAC. Gates are off (--no-simulate
# --no-e2e): simulate and e2e have their own benchmarks. Needs hyperfine and docker-registry.
source "$(dirname "$0")/common.sh"
command -v docker-registry >/dev/null || { echo "docker-registry is required: apt-get install docker-registry" >&2; exit 2; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $tmp/storage}}
http: {addr: 127.0.0.1:$port}
YAML
docker-registry serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
registry=$!
trap 'kill $registry 2>/dev/null; wait $registry 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.05; done
export XDG_CACHE_HOME="$tmp/cache" DOCKER_CONFIG="$tmp/docker"
mkdir -p "$tmp/k200"
cp "$tmp/k200.yaml" "$tmp/k200/katalog.yaml"
demo=demos/beginner/hello-website
host="127.0.0.1:$port"
flags="--insecure-http --no-simulate --no-e2e"
out="${1:-/dev/stdout}"
# Cold: the registry's storage is emptied before each run, so every blob is uploaded.
hyperfine -N --warmup 2 --min-runs 20 --export-markdown "$tmp/cold.md" --prepare "rm -rf $tmp/storage" \
  -n "hello-website: push (cold)" "$ork push $demo $host/bench/demo:v1 $flags" \
  -n "200-CRD Katalog: push (cold)" "$ork push $tmp/k200 $host/bench/k200:v1 $flags"
"$ork" push "$demo" "$host/bench/demo:v1" $flags >/dev/null
"$ork" push "$tmp/k200" "$host/bench/k200:v1" $flags >/dev/null
hyperfine -N --warmup 3 --min-runs 30 --export-markdown "$tmp/warm.md" \
  -n "hello-website: push (warm)" "$ork push $demo $host/bench/demo:v1 $flags" \
  -n "hello-website: pull" "$ork pull $host/bench/demo:v1 -o $tmp/pulled-demo --force --insecure-http" \
  -n "200-CRD Katalog: push (warm)" "$ork push $tmp/k200 $host/bench/k200:v1 $flags" \
  -n "200-CRD Katalog: pull" "$ork pull $host/bench/k200:v1 -o $tmp/pulled-k200 --force --insecure-http"
{ cat "$tmp/cold.md"; echo; cat "$tmp/warm.md"; } > "$out"
