#!/usr/bin/env python3
"""Test helper: reads and writes OCI artifacts with the PyPI `oras` client (not ork's code),
and checks cosign-style signatures with PyPI `cryptography`. Run with the `.venv` Python that
scripts/test.sh creates (tests/support/lib.rs: `oci_read`, `Registry::oci_read`).

    oci_read.py [--insecure | --ca-file PEM] manifest REF
        Prints the manifest exactly as the registry serves it.
    oci_read.py [--insecure | --ca-file PEM] pull REF OUTDIR
        Writes each layer to OUTDIR/<its title> (oras refuses titles that leave OUTDIR) and
        prints the written paths relative to OUTDIR, one a line.
    oci_read.py [--insecure | --ca-file PEM] push REF FILE:MEDIATYPE[:TITLE]...
            [--artifact-type T] [--annotation KEY=VALUE]...
        Pushes an image manifest with one layer per FILE (raw bytes, the given media type,
        `org.opencontainers.image.title` = TITLE, default the file's name), the empty `{}` config
        blob with media type T (the artifact type; default oras' unknown config type), and the
        manifest annotations. Prints `digest: sha256:<hex>`.
    oci_read.py verify-sig PUBLIC_PEM PAYLOAD_FILE SIG_B64
        Verifies an ECDSA P-256 / SHA-256 signature (DER, base64; `@FILE` reads it from FILE)
        of PAYLOAD_FILE's bytes with the public key. Exit 0 valid, 1 invalid.

`--insecure` is plain HTTP; `--ca-file` is HTTPS verified against that CA (default: the
system's CAs). Credentials: env ORAS_USER and ORAS_PASS (basic auth), else anonymous; the
host's docker config is never read. Exit codes: 0 ok, 1 invalid signature, 2 usage or a
registry/network error (the message names the HTTP status, e.g. `401 Unauthorized`).
"""

import argparse
import base64
import os
import sys
import tempfile
import types

TITLE = "org.opencontainers.image.title"
# Every request is bounded: the registry is local, an answer that takes longer is a failure.
TIMEOUT_SECONDS = 30


class RegistryError(Exception):
    pass


def client(args):
    import oras.auth
    import oras.auth.base
    import oras.provider

    class AnonymousAuth(oras.auth.base.AuthBackend):
        """No credentials (oras' token backend would go looking for a token realm, and its
        basic backend would fail without a password): the request is repeated as it was, so
        a 401 reaches `check`, which names it."""

        def get_auth_header(self):
            return {}

        def authenticate_request(self, original, headers, refresh=False):
            return headers, True

    oras.auth.auth_backends["anonymous"] = AnonymousAuth
    basic = bool(os.environ.get("ORAS_USER") and os.environ.get("ORAS_PASS"))
    tls_verify = False if args.insecure else (args.ca_file or True)
    c = oras.provider.Registry(insecure=args.insecure, tls_verify=tls_verify, auth_backend="basic" if basic else "anonymous")
    # Only the env credentials: never the host's ~/.docker/config.json.
    c.auth.load_configs = lambda *a, **k: None
    # No retries (oras retries any error five times with sleeps of up to 83 s) and a timeout on
    # every request.
    c.do_request = types.MethodType(oras.provider.Registry.do_request.__wrapped__, c)
    request = c.session.request

    def bounded(method, url, **kw):
        kw.setdefault("timeout", TIMEOUT_SECONDS)
        return request(method, url, **kw)

    c.session.request = bounded
    c.auth.session = c.session
    return c


def check(response, what):
    if response.status_code not in (200, 201, 202):
        raise RegistryError(f"{what}: {response.status_code} {response.reason}: {response.text.strip()[:500]}")


def cmd_manifest(args):
    import oras.defaults

    c = client(args)
    container = c.get_container(args.ref)
    url = f"{c.prefix}://{container.manifest_url()}"
    r = c.do_request(url, "GET", headers={"Accept": ", ".join(oras.defaults.default_manifest_accepted_media_types)})
    check(r, f"GET {url}")
    sys.stdout.buffer.write(r.content)
    sys.stdout.buffer.write(b"\n")


def cmd_pull(args):
    c = client(args)
    outdir = os.path.abspath(args.outdir)
    os.makedirs(outdir, exist_ok=True)
    files = c.pull(target=args.ref, outdir=outdir)
    for f in files:
        print(os.path.relpath(f, outdir))


def parse_layer(spec):
    parts = spec.split(":", 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise SystemExit(f"oci_read.py push: a layer is FILE:MEDIATYPE[:TITLE], not {spec!r}")
    path, media_type = parts[0], parts[1]
    title = parts[2] if len(parts) == 3 else os.path.basename(path)
    return path, media_type, title


def cmd_push(args):
    import oras.defaults
    import oras.oci

    c = client(args)
    container = c.get_container(args.ref)
    manifest = oras.oci.NewManifest()
    for spec in args.layers:
        path, media_type, title = parse_layer(spec)
        layer = oras.oci.NewLayer(path, media_type=media_type)
        layer["annotations"] = {TITLE: title}
        check(c.upload_blob(path, container, layer), f"upload {path}")
        manifest["layers"].append(layer)
    annotations = {}
    for a in args.annotation:
        key, sep, value = a.partition("=")
        if not sep:
            raise SystemExit(f"oci_read.py push: an annotation is KEY=VALUE, not {a!r}")
        annotations[key] = value
    if annotations:
        manifest["annotations"] = annotations
    else:
        manifest.pop("annotations", None)
    conf, _ = oras.oci.ManifestConfig(None, args.artifact_type)
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as f:
        f.write(b"{}")
        config_file = f.name
    try:
        check(c.upload_blob(config_file, container, conf), "upload the config blob")
    finally:
        os.unlink(config_file)
    manifest["config"] = conf
    r = c.upload_manifest(manifest, container)
    check(r, f"PUT the manifest of {args.ref}")
    print(f"digest: {r.headers.get('Docker-Content-Digest', '')}")


def cmd_verify_sig(args):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    with open(args.public_pem, "rb") as f:
        key = load_pem_public_key(f.read())
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        print("invalid: the public key is not ECDSA P-256")
        return 1
    with open(args.payload, "rb") as f:
        payload = f.read()
    text = args.sig_b64
    if text.startswith("@"):
        with open(text[1:], "r", encoding="ascii") as f:
            text = f.read()
    try:
        sig = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        print("invalid: the signature is not base64")
        return 1
    try:
        key.verify(sig, payload, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        print("invalid: the signature does not verify")
        return 1
    print("valid")
    return 0


def main():
    p = argparse.ArgumentParser(prog="oci_read.py", description=__doc__.split("\n\n")[0])
    t = p.add_mutually_exclusive_group()
    t.add_argument("--insecure", action="store_true", help="plain HTTP")
    t.add_argument("--ca-file", help="HTTPS, verified against this CA (PEM)")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("manifest")
    s.add_argument("ref")
    s = sub.add_parser("pull")
    s.add_argument("ref")
    s.add_argument("outdir")
    s = sub.add_parser("push")
    s.add_argument("ref")
    s.add_argument("layers", nargs="+", metavar="FILE:MEDIATYPE[:TITLE]")
    s.add_argument("--artifact-type", default=None)
    s.add_argument("--annotation", action="append", default=[], metavar="KEY=VALUE")
    s = sub.add_parser("verify-sig")
    s.add_argument("public_pem")
    s.add_argument("payload")
    s.add_argument("sig_b64")
    args = p.parse_args()
    try:
        if args.cmd == "verify-sig":
            return cmd_verify_sig(args)
        {"manifest": cmd_manifest, "pull": cmd_pull, "push": cmd_push}[args.cmd](args)
        return 0
    except RegistryError as e:
        print(f"oci_read.py: {e}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as e:
        # requests' connection and TLS errors are OSErrors; oras raises ValueError for an HTTP
        # error status ("Issue with URL: Unauthorized") and a refused authentication.
        print(f"oci_read.py: {type(e).__name__}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
