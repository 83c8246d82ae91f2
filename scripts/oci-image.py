#!/usr/bin/env python3
"""Packs one statically linked binary into an OCI image layout, without a container daemon.

    oci-image.py --binary PATH --command SUBCOMMAND --tag TAG --out DIR [--source URL] [--version V]

The image has one layer, written deterministically (sorted entries, fixed times, owner 0:0 except
the non-root user's home), holding:

    /<binary name>                        the binary (0755)
    /etc/passwd, /etc/group               root and nonroot (65532:65532)
    /etc/nsswitch.conf                    hosts: files dns
    /etc/ssl/certs/ca-certificates.crt    the build machine's CA bundle
    /home/nonroot/                        65532:65532, 0700
    /tmp/                                 1777

and runs as 65532:65532 with Entrypoint ["/<binary name>"] and Cmd [SUBCOMMAND]. The same bytes in
give the same digests out (SOURCE_DATE_EPOCH sets the time, default 0). Prints the manifest
digest and the sizes as JSON. Python standard library only.
"""

import argparse
import datetime
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

NONROOT = 65532
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def entry(name, mode, kind=tarfile.REGTYPE, data=b"", owner=0, mtime=0):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.uid = info.gid = owner
    info.uname = info.gname = "nonroot" if owner else "root"
    info.mtime = mtime
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def layer(binary_name, binary, ca, mtime):
    passwd = f"root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:{NONROOT}:{NONROOT}:nonroot:/home/nonroot:/sbin/nologin\n"
    group = f"root:x:0:\nnonroot:x:{NONROOT}:\n"
    d = tarfile.DIRTYPE
    entries = [
        entry("etc/", 0o755, d, mtime=mtime),
        entry("etc/group", 0o644, data=group.encode(), mtime=mtime),
        entry("etc/nsswitch.conf", 0o644, data=b"hosts: files dns\n", mtime=mtime),
        entry("etc/passwd", 0o644, data=passwd.encode(), mtime=mtime),
        entry("etc/ssl/", 0o755, d, mtime=mtime),
        entry("etc/ssl/certs/", 0o755, d, mtime=mtime),
        entry("etc/ssl/certs/ca-certificates.crt", 0o644, data=ca, mtime=mtime),
        entry("home/", 0o755, d, mtime=mtime),
        entry("home/nonroot/", 0o700, d, owner=NONROOT, mtime=mtime),
        entry(binary_name, 0o755, data=binary, mtime=mtime),
        entry("tmp/", 0o1777, d, mtime=mtime),
    ]
    entries.sort(key=lambda e: e[0].name)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, data)
    tar_bytes = raw.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0, compresslevel=9) as z:
        z.write(tar_bytes)
    return tar_bytes, gz.getvalue()


def write_blob(out, data):
    digest = sha256(data)
    path = os.path.join(out, "blobs", "sha256", digest.split(":", 1)[1])
    with open(path, "wb") as f:
        f.write(data)
    return {"digest": digest, "size": len(data)}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--binary", required=True)
    p.add_argument("--command", required=True)
    p.add_argument("--tag", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--version", default="")
    p.add_argument("--source", default="https://github.com/orkspace/ork")
    args = p.parse_args()

    name = os.path.basename(args.binary)
    try:
        with open(args.binary, "rb") as f:
            binary = f.read()
    except OSError as e:
        print(f"error: the binary {args.binary}: {e}", file=sys.stderr)
        return 2
    try:
        with open(CA_BUNDLE, "rb") as f:
            ca = f.read()
    except OSError as e:
        print(f"error: the CA bundle {CA_BUNDLE}: {e} (apt-get install ca-certificates)", file=sys.stderr)
        return 2
    epoch_text = os.environ.get("SOURCE_DATE_EPOCH", "0")
    if not epoch_text.isdigit():
        print(f"error: SOURCE_DATE_EPOCH={epoch_text!r}: not a number of seconds since 1970", file=sys.stderr)
        return 2
    epoch = int(epoch_text)
    created = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    os.makedirs(os.path.join(args.out, "blobs", "sha256"), exist_ok=True)
    tar_bytes, gz_bytes = layer(name, binary, ca, epoch)
    labels = {
        "org.opencontainers.image.title": name,
        "org.opencontainers.image.version": args.version or args.tag,
        "org.opencontainers.image.source": args.source,
        "org.opencontainers.image.licenses": "Apache-2.0",
    }
    config = {
        "created": created,
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "User": f"{NONROOT}:{NONROOT}",
            "Entrypoint": [f"/{name}"],
            "Cmd": [args.command],
            "WorkingDir": "/",
            "Env": ["PATH=/"],
            "Labels": labels,
        },
        "rootfs": {"type": "layers", "diff_ids": [sha256(tar_bytes)]},
        "history": [{"created": created, "created_by": f"scripts/build-images.sh: /{name}, CA certificates, passwd (nonroot {NONROOT})"}],
    }
    config_desc = write_blob(args.out, json.dumps(config, sort_keys=True, separators=(",", ":")).encode())
    layer_desc = write_blob(args.out, gz_bytes)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_desc},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer_desc}],
        "annotations": {"org.opencontainers.image.created": created, **labels},
    }
    manifest_desc = write_blob(args.out, json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode())
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest_desc,
                       "annotations": {"org.opencontainers.image.ref.name": args.tag}}],
    }
    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump(index, f, sort_keys=True, separators=(",", ":"))
    with open(os.path.join(args.out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    print(json.dumps({"image": name, "tag": args.tag, "digest": manifest_desc["digest"], "binary_bytes": len(binary),
                      "layer_bytes": layer_desc["size"], "layer_uncompressed_bytes": len(tar_bytes)}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
