"""Real Helm (the Go SDK through PyPI helm-python-sdk) for the chart tests.

    helm_chart.py render CHART [-n NS] [--name NAME] [-f VALUES]... [--set K=V]...
        the chart's manifests as one YAML stream (templates in path order, NOTES.txt left out),
        after checking the values against values.schema.json as `helm install` does
    helm_chart.py lint CHART [-f VALUES]...      Helm's lint findings (strict) as JSON
    helm_chart.py schema CHART [-f VALUES]... [--set K=V]...
        exit 0 when the values pass values.schema.json, else 1 with Helm's message on stderr

Exit 2 on a usage error. Standard library and helm_python only.
"""

import argparse
import json
import sys

import helm_python as helm


def merge(base, extra):
    """Deep-merges `extra` into `base` (maps merge, everything else is replaced), as Helm does
    with several values files."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def values_of(args):
    values = {}
    for path in args.values:
        with open(path, encoding="utf-8") as f:
            merge(values, helm.values_from_yaml(f.read()) or {})
    for pair in args.set:
        merge(values, helm.parse_set_string(pair))
    return values


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("command", choices=["render", "lint", "schema"])
    p.add_argument("chart")
    p.add_argument("-f", "--values", action="append", default=[])
    p.add_argument("--set", action="append", default=[])
    p.add_argument("-n", "--namespace", default="orkestra-system")
    p.add_argument("--name", default="orkestra")
    args = p.parse_args()
    values = values_of(args)

    if args.command == "lint":
        print(json.dumps(helm.lint(args.chart, values=values or None, strict=True, namespace=args.namespace), sort_keys=True, default=str))
        return 0
    with helm.Chart.load(args.chart) as chart:
        try:
            chart.validate_schema(values)
        except Exception as e:  # Helm's schema error: the message is the finding.
            print(str(e), file=sys.stderr)
            return 1
        if args.command == "schema":
            return 0
        rendered = chart.render(values, name=args.name, namespace=args.namespace)
    out = []
    for path in sorted(rendered):
        if path.endswith("NOTES.txt"):
            continue
        for doc in rendered[path].split("\n---"):
            if any(line.strip() and not line.lstrip().startswith("#") for line in doc.splitlines()):
                out.append(f"# Source: {path}\n{doc.strip()}\n")
    sys.stdout.write("---\n" + "---\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
