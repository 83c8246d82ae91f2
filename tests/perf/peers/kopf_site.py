"""The peers benchmark's job for kopf (tests/benches/peers.rs): each Site CR becomes one
Deployment and one Service, and reports `status.phase: Ready`.

Run: kopf run --standalone --all-namespaces tests/perf/peers/kopf_site.py (KUBECONFIG set).
kopf keeps its defaults (progress and diff-base annotations, Events for handler outcomes); only
the number of handler threads is set, to match ork's 8 workers.
"""

import kopf
import kubernetes

_apps = None
_core = None


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_):
    global _apps, _core
    settings.execution.max_workers = 8
    kubernetes.config.load_kube_config()
    config = kubernetes.client.Configuration.get_default_copy()
    # One connection per handler thread.
    config.connection_pool_maxsize = 8
    client = kubernetes.client.ApiClient(config)
    _apps = kubernetes.client.AppsV1Api(client)
    _core = kubernetes.client.CoreV1Api(client)


@kopf.on.create("perf.ork.dev", "v1", "sites")
def create_site(name, namespace, body, patch, **_):
    labels = {"app": name}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": "nginxinc/nginx-unprivileged:1.27", "ports": [{"containerPort": 8080}]}]},
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": labels},
        "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    kopf.adopt(deployment, owner=body)
    kopf.adopt(service, owner=body)
    _apps.create_namespaced_deployment(namespace, deployment)
    _core.create_namespaced_service(namespace, service)
    patch.status["phase"] = "Ready"
