#!/usr/bin/env python3
"""Generates services/src/cluster/patch-schema.json: how the dev cluster merges patches.

Source: the Kubernetes OpenAPI definitions shipped in the pinned PyPI package
`kubernetes-validate` (scripts/test.sh installs it into .venv/), for the Kubernetes version the dev
cluster reports (v1.32). They keep the extensions the API server's patch code reads:
`x-kubernetes-patch-merge-key` and `x-kubernetes-patch-strategy` (strategic merge patch), and
`x-kubernetes-list-type`, `x-kubernetes-list-map-keys` and `x-kubernetes-map-type` (server-side
apply).

The output keeps only what changes a merge: for every definition reachable from a resource kind,
the fields that carry one of those extensions or lead (through objects, list items or map values)
to a definition that does, each with the definition of its value; and a table from
`apiVersion/kind` to the root definition. Everything else merges by default (objects
recursively, lists replaced), so it is left out. Keys are sorted; one entry per line.

Usage (the drift test in tests/tests/patch_schema.rs runs exactly this and compares):

    .venv/bin/python scripts/gen-patch-schema.py > services/src/cluster/patch-schema.json
"""

import json
import os
import sys

# The version kubernetes-validate is pinned to in scripts/test.sh, and the Kubernetes minor the dev
# cluster reports (services/src/devcluster/api.rs, MINOR).
PACKAGE_VERSION = "1.37.0"
KUBERNETES = "v1.32.0"

REF_PREFIX = "#/$defs/"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def fail(message):
    print(f"gen-patch-schema: {message}", file=sys.stderr)
    sys.exit(2)


def load_definitions():
    try:
        import kubernetes_validate
        from kubernetes_validate.version import __version__
    except ImportError:
        fail("the Python package kubernetes-validate is missing: run ./scripts/test.sh (it installs it into .venv/) and use .venv/bin/python")
    if __version__ != PACKAGE_VERSION:
        fail(f"kubernetes-validate {__version__} is installed, {PACKAGE_VERSION} is pinned (scripts/test.sh)")
    path = os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema", f"{KUBERNETES}-local", "_definitions.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)["$defs"]


def ref_name(schema):
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if ref is None:
        return None
    if not ref.startswith(REF_PREFIX):
        fail(f"unexpected $ref {ref}")
    return ref[len(REF_PREFIX):]


def field_entry(prop):
    """The merge-relevant facts of one property, and the definition its values refer to."""
    entry = {}
    for ext, key in [
        ("x-kubernetes-patch-strategy", "patchStrategy"),
        ("x-kubernetes-patch-merge-key", "patchMergeKey"),
        ("x-kubernetes-map-type", "mapType"),
        ("x-kubernetes-list-map-keys", "listMapKeys"),
    ]:
        if ext in prop:
            entry[key] = prop[ext]
    # Lists without a list type are atomic for server-side apply; "atomic" is the default.
    if prop.get("x-kubernetes-list-type") in ("map", "set"):
        entry["listType"] = prop["x-kubernetes-list-type"]
    ref = ref_name(prop)
    if ref is None and isinstance(prop.get("items"), dict):
        ref = ref_name(prop["items"])
        if ref is not None:
            entry["shape"] = "list"
    if ref is None and isinstance(prop.get("additionalProperties"), dict):
        ref = ref_name(prop["additionalProperties"])
        if ref is not None:
            entry["shape"] = "map"
    return entry, ref


def main():
    defs = load_definitions()
    fields = {}
    for name, schema in defs.items():
        fields[name] = {f: field_entry(p) for f, p in (schema.get("properties") or {}).items()}

    # A definition matters when it is an atomic map or one of its fields matters; a field matters
    # when it carries a merge extension or refers to a definition that matters. Fixpoint, since
    # definitions are recursive (JSONSchemaProps).
    matters = {n for n, s in defs.items() if s.get("x-kubernetes-map-type") == "atomic"}
    matters |= {n for n, fs in fields.items() if any(e for e, _ in fs.values())}
    while True:
        more = {n for n, fs in fields.items() if n not in matters and any(r in matters for _, r in fs.values())}
        if not more:
            break
        matters |= more

    kinds = {}
    for name, schema in defs.items():
        if ref_name((schema.get("properties") or {}).get("metadata", {})) != OBJECT_META:
            continue
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            kinds[f"{api_version}/{gvk['kind']}"] = name

    out = {}
    todo = sorted(set(kinds.values()))
    while todo:
        name = todo.pop()
        if name in out or name not in matters:
            continue
        entry = {}
        if defs[name].get("x-kubernetes-map-type") == "atomic":
            entry["mapType"] = "atomic"
        kept = {}
        for f, (e, ref) in fields[name].items():
            if ref in matters:
                e = dict(e, ref=ref)
                todo.append(ref)
            else:
                e = {k: v for k, v in e.items() if k != "shape"}
            if e:
                kept[f] = e
        if kept:
            entry["fields"] = kept
        out[name] = entry

    def line(key, value):
        return json.dumps(key) + ":" + json.dumps(value, sort_keys=True, separators=(",", ":"))

    source = f"kubernetes-validate {PACKAGE_VERSION} (PyPI): kubernetes-json-schema/{KUBERNETES}-local/_definitions.json; regenerate with scripts/gen-patch-schema.py"
    print("{")
    print(line("source", source) + ",")
    print('"kinds":{')
    print(",\n".join(line(k, kinds[k]) for k in sorted(kinds)))
    print("},")
    print('"definitions":{')
    print(",\n".join(line(k, out[k]) for k in sorted(out)))
    print("}")
    print("}")


if __name__ == "__main__":
    main()
