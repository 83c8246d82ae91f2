#!/usr/bin/env python3
"""Generate the dev cluster's protobuf field table (services/src/devcluster/proto/schema.txt).

The dev cluster reads the protobuf bodies kubectl sends (`application/vnd.kubernetes.protobuf`)
by walking this table: for every message of the Kubernetes API, each field's number, JSON name,
type and how Go's JSON encoding treats it. The table is generated from two source trees at the
same Kubernetes minor version:

  * k8s.io/api (one `generated.proto` + `types.go` per group/version), and
  * k8s.io/apimachinery (meta/v1, runtime, intstr, resource).

`generated.proto` gives the structure (field numbers, wire types, message types, maps);
the Go `types.go` files give what the protobuf cannot: the JSON name of inline fields, whether a
field is a pointer (so a zero value that was sent is kept) and whether its JSON tag says
`omitempty` (so Go's zero value is left out), and which messages wrap a plain Go slice
(`type ExtraValue []string`, JSON is the bare list).

Usage (the trees are plain checkouts, e.g. `git archive release-1.32 | tar x -C DIR`):

    scripts/gen-proto-schema.py --api /tmp/k8sapi --apimachinery /tmp/k8sam \
        --source "k8s.io/api release-1.32 @ <sha>, k8s.io/apimachinery release-1.32 @ <sha>" \
        > services/src/devcluster/proto/schema.txt

Only the stable group/versions (`v1`, `v2`, ...) of k8s.io/api are read: those are what the dev
cluster serves.

Output format, one record a line:

    # comment
    g <apiVersion> <proto package>          the package holding the kinds of an apiVersion
    m <message> [list]                      a message; `list`: its JSON is the bare `items` list
    <n> <json name> <type> <flags>          a field of the message above

<type> is a scalar (string, bytes, bool, int32, int64, uint32, uint64, double, float), a message
name, or `map:<key type>:<value type>`. <flags> is `-` or letters: r repeated, p Go pointer,
o omitempty, i inline (the message's fields are merged into the parent; the JSON name is `_`).
"""

import argparse
import os
import re
import sys

SCALARS = {"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "double", "float", "sint32", "sint64", "fixed32", "fixed64"}

APIMACHINERY_PACKAGES = ["pkg/apis/meta/v1", "pkg/runtime", "pkg/runtime/schema", "pkg/util/intstr", "pkg/api/resource"]

FIELD_RE = re.compile(r"^\s*(optional|repeated|required)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)")
MAP_RE = re.compile(r"^\s*map<\s*([\w.]+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)")


def parse_proto(path):
    """(package, {message: [(number, proto name, type, repeated, is_map, key, value)]})"""
    package = None
    messages = {}
    current = None
    depth = 0
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("//", 1)[0].rstrip()
            if not line.strip():
                continue
            m = re.match(r"^package\s+([\w.]+);", line)
            if m:
                package = m.group(1)
                continue
            m = re.match(r"^message\s+(\w+)\s*\{", line)
            if m and depth == 0:
                current = m.group(1)
                messages[current] = []
                depth = 1
                if line.rstrip().endswith("}"):
                    depth = 0
                continue
            if depth == 0:
                continue
            depth += line.count("{") - line.count("}")
            if depth <= 0:
                depth = 0
                current = None
                continue
            m = MAP_RE.match(line)
            if m:
                messages[current].append((int(m.group(4)), m.group(3), None, False, True, m.group(1), m.group(2)))
                continue
            m = FIELD_RE.match(line)
            if m:
                messages[current].append((int(m.group(4)), m.group(3), m.group(2), m.group(1) == "repeated", False, None, None))
    return package, messages


def parse_go(directory):
    """({(struct, field number): (json name, pointer, omitempty, inline)}, {slice type names})"""
    fields = {}
    slices = set()
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".go") or name.endswith("_test.go") or name.startswith("zz_generated") or name == "generated.pb.go":
            continue
        struct = None
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            for line in f:
                m = re.match(r"^type\s+(\w+)\s+\[\]\w+\s*$", line)
                if m:
                    slices.add(m.group(1))
                    continue
                m = re.match(r"^type\s+(\w+)\s+struct\s*\{", line)
                if m:
                    struct = m.group(1)
                    continue
                if line.startswith("}"):
                    struct = None
                    continue
                if struct is None or "`" not in line or 'protobuf:"' not in line:
                    continue
                head, tag = line.split("`", 1)
                parts = head.split()
                go_type = parts[-1] if parts else ""
                proto = re.search(r'protobuf:"([^"]*)"', tag)
                js = re.search(r'json:"([^"]*)"', tag)
                if not proto or proto.group(1).count(",") < 2:
                    continue
                number = int(proto.group(1).split(",")[1])
                json_name, opts = "", []
                if js:
                    bits = js.group(1).split(",")
                    json_name, opts = bits[0], bits[1:]
                inline = "inline" in opts and json_name == ""
                fields[(struct, number)] = (json_name, go_type.startswith("*"), "omitempty" in opts, inline)
    return fields, slices


def qualify(package, type_name, known):
    if type_name in SCALARS:
        return type_name
    if type_name.startswith("."):
        return type_name[1:]
    if "." in type_name and type_name in known:
        return type_name
    return f"{package}.{type_name}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--api", required=True, help="a checkout of k8s.io/api")
    ap.add_argument("--apimachinery", required=True, help="a checkout of k8s.io/apimachinery")
    ap.add_argument("--source", default="", help="a line naming the sources, written into the header")
    args = ap.parse_args()

    packages = []  # (directory, apiVersion or None)
    for group in sorted(os.listdir(args.api)):
        gdir = os.path.join(args.api, group)
        if not os.path.isdir(gdir):
            continue
        for version in sorted(os.listdir(gdir)):
            vdir = os.path.join(gdir, version)
            if not re.fullmatch(r"v\d+", version) or not os.path.exists(os.path.join(vdir, "generated.proto")):
                continue
            # A package without `+groupName` is served under its directory's name (apps, batch, ...).
            group_name = group
            doc = os.path.join(vdir, "doc.go")
            if os.path.exists(doc):
                with open(doc, encoding="utf-8") as f:
                    m = re.search(r"\+groupName=([\w.\-]*)", f.read())
                    group_name = m.group(1) if m else group_name
            packages.append((vdir, f"{group_name}/{version}" if group_name else version))
    for sub in APIMACHINERY_PACKAGES:
        packages.append((os.path.join(args.apimachinery, sub), None))

    parsed = []
    for directory, api_version in packages:
        package, messages = parse_proto(os.path.join(directory, "generated.proto"))
        go_fields, slices = parse_go(directory)
        parsed.append((package, api_version, messages, go_fields, slices))
    known = {f"{p}.{m}" for p, _, ms, _, _ in parsed for m in ms}

    out = ["# The Kubernetes protobuf field table of the dev cluster. Generated by scripts/gen-proto-schema.py; do not edit."]
    if args.source:
        out.append(f"# from {args.source}")
    for package, api_version, _, _, _ in parsed:
        if api_version:
            out.append(f"g {api_version} {package}")
    missing = []
    for package, _, messages, go_fields, slices in parsed:
        for message in sorted(messages):
            fields = messages[message]
            is_list = message in slices and [f[1] for f in fields] == ["items"]
            out.append(f"m {package}.{message}" + (" list" if is_list else ""))
            for number, proto_name, type_name, repeated, is_map, key, value in sorted(fields):
                go = go_fields.get((message, number))
                if go is None:
                    missing.append(f"{package}.{message}.{proto_name}")
                    json_name, pointer, omitempty, inline = proto_name, False, True, False
                else:
                    json_name, pointer, omitempty, inline = go
                    json_name = json_name or proto_name
                if is_map:
                    ty = f"map:{qualify(package, key, known)}:{qualify(package, value, known)}"
                else:
                    ty = qualify(package, type_name, known)
                if ty not in SCALARS and not ty.startswith("map:") and ty not in known:
                    print(f"warning: {package}.{message}.{proto_name} has unknown type {ty}", file=sys.stderr)
                flags = ("r" if repeated else "") + ("p" if pointer else "") + ("o" if omitempty else "") + ("i" if inline else "")
                out.append(f"{number} {'_' if inline else json_name} {ty} {flags or '-'}")
    for m in missing:
        print(f"note: no Go field for {m} (treated as omitempty, not a pointer)", file=sys.stderr)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
