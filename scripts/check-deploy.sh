#!/usr/bin/env bash
# Static checks of the deployment files (no Docker engine or cluster needed):
#   - every YAML file parses (docker-compose.yml, deploy/**; Helm templates excepted) and every
#     JSON file parses (deploy/**, schemas/**);
#   - docker-compose.yml: the expected services, every build context/Dockerfile and every
#     bind-mounted file exists, depends_on names real services and service_healthy targets
#     have a healthcheck, named volumes are declared;
#   - Prometheus config and alert rules, Grafana provisioning and dashboard, OTel collector and
#     the Helm chart have the shape their tools expect;
#   - every clustergenie_* metric used by alerts and dashboards is defined in the Rust sources.
# Runs `docker compose config` and `helm lint` too when those tools work here.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

command -v python3 >/dev/null 2>&1 || {
    echo "error: python3 is needed to check the deploy files" >&2
    exit 1
}

if ! python3 -c 'import yaml' >/dev/null 2>&1; then
    echo "PyYAML is missing: installing it"
    if ! python3 -m pip install --quiet --disable-pip-version-check pyyaml >/dev/null 2>&1; then
        if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
            apt-get update -q >/dev/null
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-yaml >/dev/null
        fi
    fi
    python3 -c 'import yaml' >/dev/null 2>&1 || {
        echo "error: could not install PyYAML (pip install pyyaml, or apt-get install python3-yaml)" >&2
        exit 1
    }
fi

python3 - <<'PY'
import json
import pathlib
import re
import sys

import yaml

root = pathlib.Path(".").resolve()
errors = []
checked = []


def err(path, message):
    errors.append(f"{path}: {message}")


def rel(path):
    return str(pathlib.Path(path).resolve().relative_to(root))


def load_yaml(path):
    try:
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f)]
    except Exception as e:  # noqa: BLE001 - report any parse error
        err(rel(path), f"invalid YAML: {e}")
        return None
    checked.append(rel(path))
    return docs[0] if len(docs) == 1 else docs


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except Exception as e:  # noqa: BLE001
        err(rel(path), f"invalid JSON: {e}")
        return None
    checked.append(rel(path))
    return data


def require_file(owner, path, what):
    path = pathlib.Path(path)
    if not path.exists():
        try:
            shown = rel(path)
        except ValueError:
            shown = str(path)
        err(owner, f"{what} {shown} does not exist")


# --- every YAML / JSON file --------------------------------------------------------------

helm_templates = {p.resolve() for p in root.glob("deploy/helm/*/templates/**/*") if p.is_file()}
yaml_files = [root / "docker-compose.yml"]
yaml_files += sorted(
    p for ext in ("yml", "yaml") for p in root.glob(f"deploy/**/*.{ext}")
    if p.resolve() not in helm_templates
)
json_files = sorted(
    p for base in ("deploy", "schemas") for p in root.glob(f"{base}/**/*.json")
)
parsed = {}
for path in yaml_files:
    if not path.exists():
        err(rel(path) if path.is_relative_to(root) else str(path), "missing")
        continue
    parsed[rel(path)] = load_yaml(path)
for path in json_files:
    parsed[rel(path)] = load_json(path)

# --- docker-compose.yml ------------------------------------------------------------------

compose = parsed.get("docker-compose.yml")
if isinstance(compose, dict):
    services = compose.get("services") or {}
    if not isinstance(services, dict) or not services:
        err("docker-compose.yml", "no services")
        services = {}
    for name in ("postgres", "redis", "kafka", "clustergenie"):
        if name not in services:
            err("docker-compose.yml", f"service {name!r} is missing")
    declared_volumes = set((compose.get("volumes") or {}).keys())
    for name, svc in services.items():
        where = f"docker-compose.yml services.{name}"
        if not isinstance(svc, dict):
            err(where, "must be a mapping")
            continue
        if "image" not in svc and "build" not in svc:
            err(where, "needs image or build")
        build = svc.get("build")
        if build is not None:
            if isinstance(build, str):
                build = {"context": build}
            context = root / build.get("context", ".")
            if not context.is_dir():
                err(where, f"build context {build.get('context')} is not a directory")
            dockerfile = context / build.get("dockerfile", "Dockerfile")
            require_file(where, dockerfile, "Dockerfile")
        for volume in svc.get("volumes") or []:
            if isinstance(volume, dict):
                source, kind = volume.get("source", ""), volume.get("type", "volume")
            else:
                source = str(volume).split(":", 1)[0] if ":" in str(volume) else ""
                kind = "bind" if source.startswith((".", "/", "~")) else "volume"
            if kind == "bind" and source.startswith("."):
                require_file(where, root / source, "bind-mounted path")
            elif kind == "volume" and source and source not in declared_volumes:
                err(where, f"named volume {source!r} is not declared under volumes:")
        for env_file in ([svc["env_file"]] if isinstance(svc.get("env_file"), str) else svc.get("env_file") or []):
            require_file(where, root / (env_file if isinstance(env_file, str) else env_file.get("path", "")), "env_file")
        depends = svc.get("depends_on") or {}
        if isinstance(depends, list):
            depends = {d: {"condition": "service_started"} for d in depends}
        for dep, spec in depends.items():
            if dep not in services:
                err(where, f"depends_on names unknown service {dep!r}")
                continue
            condition = (spec or {}).get("condition", "service_started")
            if condition == "service_healthy" and "healthcheck" not in services[dep]:
                err(where, f"waits for {dep} to be healthy but {dep} has no healthcheck")
            if not svc.get("profiles") and services[dep].get("profiles"):
                err(where, f"always runs but depends on {dep}, which only runs in a profile")
        for port in svc.get("ports") or []:
            if not re.fullmatch(r"(\d+(\.\d+){3}:)?\d+(-\d+)?(:\d+(-\d+)?)?(/(tcp|udp))?", str(port)):
                err(where, f"port {port!r} is not HOST:CONTAINER")
    app = services.get("clustergenie") or {}
    env = app.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env if "=" in item)
    for key in ("DATABASE_URL", "KAFKA_BROKERS", "REDIS_URL"):
        if key not in env:
            err("docker-compose.yml services.clustergenie", f"environment lacks {key}")
    if "8080:8080" not in [str(p) for p in app.get("ports") or []]:
        err("docker-compose.yml services.clustergenie", "does not publish port 8080")

# --- Dockerfile ---------------------------------------------------------------------------

dockerfile = root / "deploy/Dockerfile"
if dockerfile.exists():
    text = dockerfile.read_text(encoding="utf-8")
    for needle, what in (
        (r"(?m)^FROM\s+\S+\s+AS\s+builder", "a builder stage"),
        (r"(?m)^FROM\s+node:\S+\s+AS\s+console", "a Node stage building the console"),
        (r"(?m)^COPY\s+--from=console\s+\S*web/dist\s", "the built console copied into the builder"),
        (r"cargo build --release --locked -p clustergenie-api", "the release build"),
        (r"(?m)^EXPOSE\s+8080", "EXPOSE 8080"),
        (r"(?m)^HEALTHCHECK\b.*(\n\s+.*)*?/healthz", "a HEALTHCHECK on /healthz"),
        (r"(?m)^USER\s+(?!root)", "a non-root USER"),
        (r'(?m)^ENTRYPOINT\s+\["clustergenie"\]', "ENTRYPOINT clustergenie"),
    ):
        if not re.search(needle, text):
            err("deploy/Dockerfile", f"lacks {what}")
    checked.append("deploy/Dockerfile")
else:
    err("deploy/Dockerfile", "missing")

# --- Prometheus ---------------------------------------------------------------------------

prom = parsed.get("deploy/prometheus/prometheus.yml")
if isinstance(prom, dict):
    if not prom.get("scrape_configs"):
        err("deploy/prometheus/prometheus.yml", "no scrape_configs")
    for rule_file in prom.get("rule_files") or []:
        local = root / "deploy/prometheus" / pathlib.PurePosixPath(rule_file).name
        require_file("deploy/prometheus/prometheus.yml", local, "rule file")
elif "deploy/prometheus/prometheus.yml" not in parsed:
    err("deploy/prometheus/prometheus.yml", "missing")

alerts = parsed.get("deploy/prometheus/alerts.yml")
alert_exprs = []
if isinstance(alerts, dict) and alerts.get("groups"):
    for group in alerts["groups"]:
        for rule in group.get("rules") or []:
            name = rule.get("alert") or rule.get("record")
            if not name or not rule.get("expr"):
                err("deploy/prometheus/alerts.yml", f"rule {rule!r} needs alert/record and expr")
                continue
            if "alert" in rule and "severity" not in (rule.get("labels") or {}):
                err("deploy/prometheus/alerts.yml", f"alert {name} has no severity label")
            alert_exprs.append(str(rule["expr"]))
else:
    err("deploy/prometheus/alerts.yml", "missing or without groups")

# --- Grafana ------------------------------------------------------------------------------

datasource_uids = set()
for path, doc in parsed.items():
    if path.startswith("deploy/grafana/provisioning/datasources/") and isinstance(doc, dict):
        for ds in doc.get("datasources") or []:
            if not ds.get("name") or not ds.get("type"):
                err(path, f"datasource {ds!r} needs name and type")
            if ds.get("uid"):
                datasource_uids.add(ds["uid"])
    if path.startswith("deploy/grafana/provisioning/dashboards/") and isinstance(doc, dict):
        for provider in doc.get("providers") or []:
            if not (provider.get("options") or {}).get("path"):
                err(path, f"dashboard provider {provider.get('name')!r} has no options.path")
if not datasource_uids:
    err("deploy/grafana/provisioning/datasources", "no provisioned datasource with a uid")

dashboard_exprs = []
dashboards = [p for p in parsed if p.startswith("deploy/grafana/dashboards/")]
if not dashboards:
    err("deploy/grafana/dashboards", "no dashboard")
for path in dashboards:
    dash = parsed[path]
    if not isinstance(dash, dict) or not dash.get("uid") or not dash.get("title"):
        err(path, "a dashboard needs uid and title")
        continue
    panels = [p for p in dash.get("panels") or [] if p.get("type") != "row"]
    if not panels:
        err(path, "no panels")
    ids = [p.get("id") for p in dash.get("panels") or []]
    if len(ids) != len(set(ids)):
        err(path, "panel ids are not unique")
    for panel in panels:
        if not panel.get("title") or not panel.get("gridPos"):
            err(path, f"panel {panel.get('id')} needs title and gridPos")
        uid = (panel.get("datasource") or {}).get("uid")
        if uid and uid not in datasource_uids:
            err(path, f"panel {panel.get('title')!r} uses datasource uid {uid!r}, not provisioned")
        targets = panel.get("targets") or []
        if not targets:
            err(path, f"panel {panel.get('title')!r} has no targets")
        dashboard_exprs += [t.get("expr", "") for t in targets]

# --- OpenTelemetry collector --------------------------------------------------------------

otel = parsed.get("deploy/otel/collector.yaml")
if isinstance(otel, dict):
    receivers = set((otel.get("receivers") or {}).keys())
    exporters = set((otel.get("exporters") or {}).keys())
    processors = set((otel.get("processors") or {}).keys())
    if "otlp" not in receivers:
        err("deploy/otel/collector.yaml", "no otlp receiver")
    pipelines = ((otel.get("service") or {}).get("pipelines") or {})
    if not pipelines:
        err("deploy/otel/collector.yaml", "no pipelines")
    for name, pipeline in pipelines.items():
        for kind, known in (("receivers", receivers), ("processors", processors), ("exporters", exporters)):
            for item in pipeline.get(kind) or []:
                if item not in known:
                    err("deploy/otel/collector.yaml", f"pipeline {name} uses undefined {kind[:-1]} {item!r}")
else:
    err("deploy/otel/collector.yaml", "missing")

# --- Helm chart ---------------------------------------------------------------------------

chart_dir = root / "deploy/helm/clustergenie"
chart = parsed.get("deploy/helm/clustergenie/Chart.yaml")
if isinstance(chart, dict):
    for key in ("apiVersion", "name", "version"):
        if not chart.get(key):
            err("deploy/helm/clustergenie/Chart.yaml", f"lacks {key}")
    if chart.get("apiVersion") != "v2":
        err("deploy/helm/clustergenie/Chart.yaml", "apiVersion must be v2")
else:
    err("deploy/helm/clustergenie/Chart.yaml", "missing")
if not isinstance(parsed.get("deploy/helm/clustergenie/values.yaml"), dict):
    err("deploy/helm/clustergenie/values.yaml", "missing or not a mapping")
for name in ("deployment.yaml", "service.yaml", "configmap.yaml", "_helpers.tpl"):
    require_file("deploy/helm/clustergenie", chart_dir / "templates" / name, "template")
values_text = (chart_dir / "values.yaml").read_text(encoding="utf-8") if (chart_dir / "values.yaml").exists() else ""
deployment = (chart_dir / "templates/deployment.yaml")
deployment_text = deployment.read_text(encoding="utf-8") if deployment.exists() else ""
for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
    if probe not in deployment_text or not re.search(rf"{probe}:\s*\n\s+httpGet:\s*\n\s+path:\s*{re.escape(path)}", values_text):
        err("deploy/helm/clustergenie", f"{probe} must probe {path}")
for template in sorted(chart_dir.glob("templates/*")):
    text = template.read_text(encoding="utf-8")
    if text.count("{{") != text.count("}}"):
        err(rel(template), "unbalanced {{ }}")
    checked.append(rel(template))

# --- metric names used by alerts and dashboards exist in the code ----------------------------

sources = "\n".join(
    p.read_text(encoding="utf-8")
    for base in ("api/src", "engine/src", "projections/src")
    for p in root.glob(f"{base}/**/*.rs")
)
used = set()
for expr in alert_exprs + dashboard_exprs:
    used.update(re.findall(r"\bclustergenie_[a-z0-9_]+", expr))
for metric in sorted(used):
    base = re.sub(r"_(bucket|sum|count)$", "", metric)
    if f'"{metric}"' not in sources and f'"{base}"' not in sources:
        err("deploy", f"metric {metric} is used by alerts/dashboards but not defined in the Rust sources")

# --- report -----------------------------------------------------------------------------------

if errors:
    print(f"deploy check: {len(errors)} problem(s)")
    for line in errors:
        print(f"  - {line}")
    sys.exit(1)
print(f"deploy check: ok ({len(checked)} files; {len(used)} metric names found in the code)")
PY

if docker compose version >/dev/null 2>&1; then
    echo "docker compose config:"
    docker compose -f docker-compose.yml --profile observability config --quiet
    echo "  ok"
fi
if command -v helm >/dev/null 2>&1; then
    echo "helm lint:"
    helm lint deploy/helm/clustergenie
fi
