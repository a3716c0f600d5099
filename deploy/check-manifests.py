#!/usr/bin/env python3
"""check-manifests.py — checks on the rendered kustomization that a schema cannot make.

usage: check-manifests.py RENDERED.yaml CONFIG_KEYS.md DOCKERFILE CONFIG.json

kubernetes-validate says the manifests are well-formed; this says they keep the promises
of issue 7 and stay consistent with the service:
  - every VIGIA_* variable (Deployment and Dockerfile) is a key `vigia config-keys` lists
    (an unknown one stops vigia at start-up);
  - probes: startup + liveness on /health/live, readiness on /health/ready;
  - security: non-root, read-only root fs, no privilege escalation, ALL capabilities
    dropped, seccomp RuntimeDefault, no service-account token — for every container;
  - shutdown: terminationGracePeriodSeconds >= preStop sleep + drain timeout + 5s;
  - RollingUpdate with maxUnavailable 0; HPA and PDB target the Deployment's pods;
  - the generated ConfigMap holds config/vigia.json byte for byte;
  - the model volume is writable only by the sidecar; tokens and TLS come from required
    Secrets mounted as files, with auth and TLS switched on.
Prints one line per failed promise and exits 1 if any failed.
"""
import json
import re
import sys

import yaml


def main(rendered_path, keys_path, dockerfile_path, config_path):
    docs = [d for d in yaml.safe_load_all(open(rendered_path)) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    known = set(re.findall(r"`(VIGIA_[A-Z0-9_]+)`", open(keys_path).read()))
    problems = []

    def need(condition, message):
        if not condition:
            problems.append(message)

    need(len(known) > 10, f"config-keys output lists only {len(known)} variables")
    config_text = open(config_path).read()
    config = json.loads(config_text)

    [deployment] = by_kind["Deployment"]
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    pod_labels = spec["template"]["metadata"]["labels"]
    containers = pod["containers"]
    sidecars = [c for c in pod.get("initContainers", []) if c.get("restartPolicy") == "Always"]
    [vigia] = [c for c in containers if c["name"] == "vigia"]

    # Environment variables.
    env = {e["name"]: e for e in vigia.get("env", [])}
    for name in env:
        if name.startswith("VIGIA_"):
            need(name in known, f"Deployment sets {name}, which is not a configuration key")
    docker_env = re.findall(r"\b(VIGIA_[A-Z0-9_]+)=", open(dockerfile_path).read())
    need(docker_env, "Dockerfile sets no VIGIA_* variable (expected VIGIA_SERVER_HOST)")
    for name in docker_env:
        need(name in known, f"Dockerfile sets {name}, which is not a configuration key")

    # Probes.
    def probe_path(container, probe):
        return container.get(probe, {}).get("httpGet", {}).get("path")

    need(probe_path(vigia, "startupProbe") == "/health/live", "startupProbe is not GET /health/live")
    need(probe_path(vigia, "livenessProbe") == "/health/live", "livenessProbe is not GET /health/live")
    need(probe_path(vigia, "readinessProbe") == "/health/ready", "readinessProbe is not GET /health/ready")

    # Security.
    psc = pod.get("securityContext", {})
    need(psc.get("runAsNonRoot") is True, "pod runAsNonRoot is not true")
    need(psc.get("runAsUser", 0) != 0, "pod runAsUser is 0 or unset")
    need(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "pod seccomp is not RuntimeDefault")
    need(pod.get("automountServiceAccountToken") is False, "pod mounts a service-account token")
    for c in containers + pod.get("initContainers", []):
        sc = c.get("securityContext", {})
        need(sc.get("readOnlyRootFilesystem") is True, f"{c['name']}: root filesystem not read-only")
        need(sc.get("allowPrivilegeEscalation") is False, f"{c['name']}: privilege escalation allowed")
        need(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{c['name']}: capabilities not dropped (ALL)")
        need("resources" in c and "requests" in c["resources"], f"{c['name']}: no resource requests")
        need(c.get("resources", {}).get("limits", {}).get("memory"), f"{c['name']}: no memory limit")

    # Shutdown consistency.
    drain = float(env["VIGIA_SERVER_DRAIN_TIMEOUT_SECONDS"]["value"]) if "VIGIA_SERVER_DRAIN_TIMEOUT_SECONDS" in env \
        else float(config["server"]["drain_timeout_seconds"])
    serve_on = float(env["VIGIA_SERVER_DRAIN_GRACE_SECONDS"]["value"]) if "VIGIA_SERVER_DRAIN_GRACE_SECONDS" in env \
        else float(config["server"].get("drain_grace_seconds", 0))
    pre_stop = vigia.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    grace = pod.get("terminationGracePeriodSeconds", 30)
    need(pre_stop > 0, "no preStop sleep (the Service would still route to a stopping pod)")
    need(grace >= pre_stop + serve_on + drain + 5,
         f"terminationGracePeriodSeconds {grace} < preStop {pre_stop} + drain grace {serve_on} + drain {drain} + 5")

    # Rollout, autoscaling, disruption budget.
    rolling = spec.get("strategy", {})
    need(rolling.get("type") == "RollingUpdate" and rolling.get("rollingUpdate", {}).get("maxUnavailable") == 0,
         "rollout is not RollingUpdate with maxUnavailable 0")
    need("replicas" not in spec, "Deployment sets replicas although the HPA owns the count")
    [hpa] = by_kind["HorizontalPodAutoscaler"]
    need(hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"], "HPA targets another Deployment")
    need(any(m.get("resource", {}).get("name") == "cpu" for m in hpa["spec"]["metrics"]), "HPA does not scale on CPU")
    need(hpa["spec"].get("minReplicas", 1) >= 2, "HPA minReplicas < 2 (the PDB could block every drain)")
    [pdb] = by_kind["PodDisruptionBudget"]
    selector = pdb["spec"]["selector"]["matchLabels"]
    need(all(pod_labels.get(k) == v for k, v in selector.items()), "PDB selector does not match the pods")
    [service] = by_kind["Service"]
    need(all(pod_labels.get(k) == v for k, v in service["spec"]["selector"].items()),
         "Service selector does not match the pods")

    # Config map: the file, byte for byte, mounted where the container reads it.
    volumes = {v["name"]: v for v in pod["volumes"]}
    config_maps = {c["metadata"]["name"]: c for c in by_kind["ConfigMap"]}
    mounts = {m["mountPath"]: m for m in vigia["volumeMounts"]}
    config_mount = mounts.get("/etc/vigia")
    need(config_mount is not None, "nothing mounted at /etc/vigia")
    if config_mount:
        cm_name = volumes[config_mount["name"]]["configMap"]["name"]
        need(config_maps.get(cm_name, {}).get("data", {}).get("vigia.json") == config_text,
             f"ConfigMap {cm_name} does not hold config/vigia.json as is")
    need("/etc/vigia/vigia.json" in vigia.get("args", []), "vigia is not started with --config /etc/vigia/vigia.json")

    # Model storage: shared with the sidecar, read-only for vigia.
    storage = env.get("VIGIA_STORAGE_PATH", {}).get("value")
    model_mount = mounts.get(storage)
    need(model_mount is not None and model_mount.get("readOnly") is True,
         f"storage path {storage} is not a read-only mount in vigia")
    need(any(m["mountPath"] == storage and not m.get("readOnly") for s in sidecars for m in s["volumeMounts"]),
         "no sidecar writes the storage path")
    need(any(s.get("startupProbe") for s in sidecars), "the sync sidecar has no startupProbe (first sync)")

    # Secrets: the tokens and the TLS pair, required (a pod without them must not start
    # serving unauthenticated), as files under /var/run/secrets/vigia; auth and TLS on.
    secret_mount = mounts.get("/var/run/secrets/vigia")
    need(secret_mount is not None, "no secrets mounted under /var/run/secrets/vigia")
    if secret_mount:
        sources = volumes[secret_mount["name"]].get("projected", {}).get("sources", [])
        names = {s.get("secret", {}).get("name") for s in sources}
        need({"vigia-tokens", "vigia-tls"} <= names, "the tokens and TLS secrets are not both mounted")
        need(all(s.get("secret", {}).get("optional") is not True for s in sources),
             "a secret the service needs is optional")
    values = {name: e.get("value") for name, e in env.items()}
    need(values.get("VIGIA_AUTH_ENABLED") == "true", "auth is not enabled in the Deployment")
    need(values.get("VIGIA_TLS_ENABLED") == "true", "TLS is not enabled in the Deployment")
    need(str(values.get("VIGIA_AUTH_TOKENS_FILE", "")).startswith("/var/run/secrets/vigia/"),
         "the tokens file is not read from the mounted secret")
    need("Secret" not in by_kind, "a Secret (with values) is committed in the kustomization")

    for p in problems:
        print(f"check-manifests: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
