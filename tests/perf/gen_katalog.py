#!/usr/bin/env python3
"""Writes a synthetic Katalog with N CRDs (default 200) for `ork validate` benchmarks.

Each CRD has a Deployment, a Service, validation and mutation rules, status fields and (for all
but the first) a dependsOn edge, so every validation pass has real work to do."""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
out = [
    "apiVersion: orkestra.orkspace.io/v1",
    "kind: Katalog",
    "metadata: {name: synthetic, version: 1.0.0}",
    "spec:",
    "  crds:",
]
for i in range(n):
    dep = f"      dependsOn: [crd{i - 1}]\n" if i else ""
    out.append(f"""    crd{i}:
      apiTypes: {{group: g{i}.perf.ork.dev, version: v1, kind: Kind{i}, plural: kinds{i}}}
{dep}      admission:
        validation:
          rules:
            - {{field: spec.size, in: "s,m,l", message: size}}
            - {{field: spec.replicas, between: "1,9", valueType: int, message: replicas}}
        mutation:
          rules: [{{field: spec.replicas, default: 1}}]
      operatorBox:
        runtime: {{allowedNamespaces: ["team-*"], restrictedNamespaces: [kube-system]}}
        reconcile:
          workers: 2
          resync: 30s
          onCreate:
            deployments:
              - name: "{{{{ .metadata.name }}}}-web"
                image: "{{{{ .spec.image }}}}"
                resources: {{profile: small}}
                securityContext: {{profile: restricted}}
                reconcile: true
            services:
              - {{name: "{{{{ .metadata.name }}}}", port: "80"}}
        emit:
          status:
            fields:
              - {{path: phase, value: Ready}}""")
print("\n".join(out))
