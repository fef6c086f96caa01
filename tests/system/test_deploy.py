"""The deployment files: Dockerfile, nginx template, Kubernetes manifests.

No Docker engine or cluster is needed. The Dockerfile's own COPY and ``pip install``
steps run here, in order, in a clean venv (so the image's install is tested as written,
not as copied into this test), then the image's CMD serves the app from that copy: a
minute of pip, so opt-in with the other deployment tests (``make test-deploy``, which
``.ci/run`` runs; marker ``install``). The
rest is read: non-root user, health check, env vars, the nginx template's stickiness,
and every Kubernetes document against the others (labels, ports, probes, affinity).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path

import pytest
import yaml

from playground import serve
from playground.loadtest.server import Process, free_port

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
NGINX_TEMPLATE = REPO / "deploy" / "nginx" / "playground.conf"
K8S = REPO / "deploy" / "k8s"
HEALTH = "/_stcore/health"
PORT = 8501


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) of each Dockerfile instruction, continuation lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        out.append((keyword.upper(), args.strip()))
        pending = ""
    return out


def of(keyword: str) -> list[str]:
    return [args for kw, args in instructions() if kw == keyword]


def env_vars() -> dict[str, str]:
    """The image's ENV (KEY=value form only)."""
    env: dict[str, str] = {}
    for args in of("ENV"):
        env.update(part.split("=", 1) for part in shlex.split(args))
    return env


def arg_defaults() -> dict[str, str]:
    """The build arguments' defaults ("" where none is given)."""
    defaults = {}
    for args in of("ARG"):
        name, _, value = shlex.split(args)[0].partition("=")
        defaults[name] = value
    return defaults


def _workdir() -> str:
    (workdir,) = of("WORKDIR")
    return workdir


# --- the Dockerfile, read -------------------------------------------------------------


def test_image_runs_as_a_non_root_user() -> None:
    users = of("USER")
    assert users, "no USER: the app would run as root"
    assert users[-1] not in {"root", "0"} and not users[-1].startswith("0:")
    # A numeric user, so Kubernetes can check runAsNonRoot; the same one the pods ask for.
    assert users[-1].isdigit()
    pod = _one("Deployment")["spec"]["template"]["spec"]["securityContext"]
    assert pod["runAsNonRoot"] is True and str(pod["runAsUser"]) == users[-1]


def test_image_serves_the_app_on_8501_with_a_health_check() -> None:
    assert of("EXPOSE") == [str(PORT)]
    (health,) = of("HEALTHCHECK")
    assert f"127.0.0.1:{PORT}{HEALTH}" in health
    (cmd,) = of("CMD")
    argv = json.loads(cmd)  # exec form: the server gets the signals, not a shell
    assert argv[:3] == ["streamlit", "run", "streamlit_app.py"]
    flags = dict(zip(argv[3::2], argv[4::2], strict=True))
    assert flags["--server.headless"] == "true"
    assert flags["--server.address"] == "0.0.0.0"


def test_image_env_compile_cache_volume_and_host_config() -> None:
    env = env_vars()
    cache = env["PLAYGROUND_JAX_CACHE"]
    assert cache.startswith("/") and of("VOLUME") == [cache]
    assert env["PLAYGROUND_HOST_CONFIG"] == f"{_workdir()}/host.toml"
    assert env["MALLOC_ARENA_MAX"] == serve.MALLOC_ARENA_MAX  # as the class server's replicas


def test_image_python_matches_the_lock_and_the_gpu_extra_exists() -> None:
    lock_python = re.search(
        r"--python-version (\d+\.\d+)", (REPO / "requirements.lock").read_text()
    )
    assert lock_python
    (base,) = of("FROM")
    assert base.startswith(f"python:{lock_python.group(1)}-"), base
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert "gpu" in extras["optional-dependencies"]
    assert "JAX_EXTRA" in arg_defaults()


def test_image_copies_everything_the_app_runs_from() -> None:
    copied = {src.rstrip("/") for args in of("COPY") for src in shlex.split(args)[:-1]}
    needed = {"requirements.lock", "pyproject.toml", "playground", "streamlit_app.py"}
    needed |= {"app_pages", ".streamlit"}
    # The host limits file, once the repository has one, is the image's default.
    needed |= {"host.toml"} if (REPO / "host.toml").exists() else set()
    assert needed <= copied, needed - copied
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".git", ".venv"} <= set(ignored)


# --- the Dockerfile, run --------------------------------------------------------------


def _copy(args: str, root: Path) -> None:
    """COPY src... dest, relative to the build context (REPO) and the image's WORKDIR."""
    *sources, dest = shlex.split(args)
    target = root / dest
    for src in sources:
        path = REPO / src
        if path.is_dir():  # Docker copies a folder's contents, not the folder
            ignore = shutil.ignore_patterns("__pycache__")
            shutil.copytree(path, target, ignore=ignore, dirs_exist_ok=True)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / path.name)


@pytest.mark.install
def test_dockerfile_install_steps_work_in_a_clean_venv(tmp_path: Path) -> None:
    """The image's steps, in order: COPY into a folder that stands for WORKDIR, and
    each `pip install` RUN line in a new venv (its --mount flags are Docker's cache,
    so they are dropped). Then the image's CMD serves the app from that folder."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    app = tmp_path / "app"
    app.mkdir()
    env = {
        **os.environ,
        **arg_defaults(),
        **env_vars(),
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        # Where the image writes, this test's folder instead.
        "PLAYGROUND_JAX_CACHE": str(tmp_path / "jax-cache"),
        # Not the image's business, only this test's time: pip compiles every module it
        # installs (minutes here); Python compiles what the app imports when it runs.
        "PIP_NO_COMPILE": "1",
        "PLAYGROUND_HOST_CONFIG": str(app / "host.toml"),
    }
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    ran = []
    for keyword, args in instructions():
        if keyword == "COPY":
            _copy(args, app)
        elif keyword == "RUN" and "pip install" in args:
            command = re.sub(r"^(--\S+\s+)+", "", args)
            subprocess.run(["sh", "-ec", command], cwd=app, env=env, check=True, timeout=900)
            ran.append(command)
    assert any("-r requirements.lock" in c for c in ran), ran
    assert any("--no-deps ." in c for c in ran), ran

    # The installed package, not the copied source: run from elsewhere.
    python = str(venv / "bin" / "python")
    code = "import playground, streamlit, jax; print(playground.__file__)"
    out = subprocess.run(
        [python, "-c", code], cwd=tmp_path, env=env, check=True, capture_output=True, text=True
    )
    assert str(venv) in out.stdout

    # The image's CMD from the copied folder, on loopback and a free port. Streamlit's
    # script health check runs streamlit_app.py once: the copy holds the whole app.
    argv = json.loads(of("CMD")[0])
    port = free_port()
    argv += ["--server.address", "127.0.0.1", "--server.port", str(port)]
    argv += ["--server.scriptHealthCheckEnabled", "true"]
    url = f"http://127.0.0.1:{port}"
    with Process(argv, cwd=app, env=env, log=tmp_path / "server.log") as server:
        server.wait_ok(url + HEALTH)
        check = f"{url}/_stcore/script-health-check"
        with urllib.request.urlopen(check, timeout=120) as resp:
            assert resp.status == 200, server.log_tail()


# --- nginx ----------------------------------------------------------------------------


def test_nginx_template_is_sticky_by_cookie_and_balances_first_visits() -> None:
    conf = NGINX_TEMPLATE.read_text()
    code = "\n".join(line.split("#", 1)[0] for line in conf.splitlines())
    assert set(re.findall(r"\$\{(\w+)\}", code)) == {
        "PLAYGROUND_LISTEN",
        "PLAYGROUND_SERVERS",
        "PLAYGROUND_ROUTES",
        "PLAYGROUND_ROUTE_COOKIES",
        "PLAYGROUND_PINNED",
    }
    assert "ip_hash" not in code and "sticky" not in code and "hash " not in code
    # Round robin (nginx's default) for first visits: no balancing directive.
    up = re.search(r"upstream playground_replicas \{(.*?)\}", code, re.S)[1]
    assert not re.search(r"least_conn|random|hash", up), up
    assert "$cookie_playground_route" in code and "Set-Cookie" in code
    assert code.count("proxy_pass http://$playground_upstream;") == 2
    assert "add_header X-Playground-Upstream $upstream_addr always;" in code
    assert re.search(r"location = /_stcore/health", code)
    assert "proxy_buffering off;" in code
    for directive in ("proxy_read_timeout", "proxy_send_timeout"):
        assert re.search(rf"{directive} \d+h;", code), directive
    assert re.search(r"proxy_set_header Upgrade \$http_upgrade;", code)


def test_the_filled_site_pins_each_replica_and_names_only_those() -> None:
    addrs = ["10.0.0.11:8501", "10.0.0.12:8501", "[::1]:8502"]
    site = serve.site_conf("0.0.0.0:80", addrs)
    assert "${" not in site
    for i, addr in enumerate(addrs):
        others = [a for a in addrs if a != addr]
        pinned = re.search(rf"upstream playground_replica_{i} \{{ server (\S+); (.*?) keep", site)
        assert pinned and pinned[1] == addr
        assert re.findall(r"server (\S+) backup;", pinned[2]) == others
        assert f'"{i}" playground_replica_{i};' in site
        assert f"playground_route={i};" in site
    # A cookie is mapped only onto these upstreams: what a visitor forges reaches nothing else.
    routes = re.search(r"map \$cookie_playground_route \$playground_upstream \{(.*?)\}", site, re.S)
    targets = re.findall(r"(\S+);", routes[1])
    assert set(targets) == {"playground_replicas"} | {f"playground_replica_{i}" for i in range(3)}


def test_print_site_prints_the_filled_template(capsys) -> None:
    assert serve.main(["--port", "80", "--print-site", "10.0.0.11:8501", "10.0.0.12:8501"]) == 0
    out = capsys.readouterr().out
    assert out == serve.site_conf("127.0.0.1:80", ["10.0.0.11:8501", "10.0.0.12:8501"])


def test_replica_ports_never_take_nginxs_port(monkeypatch) -> None:
    """The OS may offer nginx's port (free until nginx starts) to a replica; a replica
    that took it answered the health checks in nginx's place."""
    offered = iter([8601, 8600, 8602])

    class Socket:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def bind(self, addr):
            self.port = next(offered)

        def getsockname(self):
            return ("127.0.0.1", self.port)

    monkeypatch.setattr(serve.socket, "socket", Socket)
    assert serve.free_ports(2, avoid={8601}) == [8600, 8602]


# --- Kubernetes -----------------------------------------------------------------------


def _docs() -> list[dict]:
    docs = []
    for path in sorted(K8S.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            assert isinstance(doc, dict), path
            docs.append({**doc, "_path": path})
    return docs


def _docs_of_kind(kind: str, under: Path = K8S / "base") -> list[dict]:
    return [d for d in _docs() if d["kind"] == kind and under in d["_path"].parents]


def _one(kind: str, app: str = "playground") -> dict:
    """The one document of ``kind`` in base of the app (or of "playground-redis"), by
    its app.kubernetes.io/name label."""
    (doc,) = [
        d
        for d in _docs_of_kind(kind)
        if d["metadata"].get("labels", {}).get("app.kubernetes.io/name") == app
    ]
    return doc


def _container(deployment: dict) -> dict:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_every_k8s_document_parses_and_has_its_fields() -> None:
    required = {
        "Kustomization": ["resources"],
        "Deployment": ["spec.selector.matchLabels", "spec.template.spec.containers"],
        "Service": ["spec.selector", "spec.ports"],
        "Ingress": ["spec.rules"],
        "HorizontalPodAutoscaler": ["spec.scaleTargetRef", "spec.maxReplicas", "spec.metrics"],
        "ConfigMap": ["data"],
        "Secret": ["stringData"],
        "PersistentVolumeClaim": ["spec.accessModes", "spec.resources.requests.storage"],
    }
    docs = _docs()
    assert {d["kind"] for d in docs} == set(required)
    patches = {
        (d["_path"].parent / p["path"]).resolve()
        for d in docs
        if d["kind"] == "Kustomization"
        for p in d.get("patches", [])
    }
    for doc in docs:
        assert doc.get("apiVersion"), doc["_path"]
        if doc["kind"] != "Kustomization":
            assert doc["metadata"]["name"], doc["_path"]
        if doc["_path"].resolve() in patches:
            continue  # a patch holds only what it changes
        for dotted in required[doc["kind"]]:
            node = doc
            for key in dotted.split("."):
                node = node.get(key) if isinstance(node, dict) else None
            assert node, f"{doc['_path']}: {dotted}"


def test_kustomizations_list_existing_files_and_every_manifest() -> None:
    listed: set[Path] = set()
    for doc in [d for d in _docs() if d["kind"] == "Kustomization"]:
        here = doc["_path"].parent
        for entry in doc["resources"] + [p["path"] for p in doc.get("patches", [])]:
            assert (here / entry).exists(), f"{doc['_path']}: {entry}"
            listed.add((here / entry).resolve())
    for path in K8S.rglob("*.yaml"):
        if path.name not in {"kustomization.yaml", "secret.example.yaml"}:
            assert path.resolve() in listed, f"{path} is in no kustomization"
    # The secret's example value must never be applied.
    assert (K8S / "secret.example.yaml").resolve() not in listed


def test_deployment_probes_ports_resources_and_volumes() -> None:
    deployment = _one("Deployment")
    spec = deployment["spec"]
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    container = _container(deployment)
    (port,) = container["ports"]
    assert port["containerPort"] == PORT
    for probe in ("readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == HEALTH
        assert get["port"] in (port["containerPort"], port.get("name"))
    resources = container["resources"]
    for part in ("requests", "limits"):
        assert {"cpu", "memory"} <= resources[part].keys()
    assert container["securityContext"]["allowPrivilegeEscalation"] is False

    env = {e["name"]: e for e in container["env"]}
    ref = env["STREAMLIT_SERVER_COOKIE_SECRET"]["valueFrom"]["secretKeyRef"]
    (secret,) = [d for d in _docs() if d["kind"] == "Secret"]
    assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["stringData"]

    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["template"]["spec"]["volumes"]}
    cache = env["PLAYGROUND_JAX_CACHE"]["value"]
    assert cache == env_vars()["PLAYGROUND_JAX_CACHE"]
    (cache_volume,) = [n for n, path in mounts.items() if path == cache]
    assert "emptyDir" in volumes[cache_volume]

    host = Path(env["PLAYGROUND_HOST_CONFIG"]["value"])
    (config_volume,) = [n for n, path in mounts.items() if path == str(host.parent)]
    config_map = _one("ConfigMap")
    assert volumes[config_volume]["configMap"]["name"] == config_map["metadata"]["name"]
    assert host.name in config_map["data"]
    tomllib.loads(config_map["data"][host.name])  # valid TOML, even when only comments


def test_service_selects_the_pods_and_reaches_their_port() -> None:
    service, deployment = _one("Service"), _one("Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    (port,) = _container(deployment)["ports"]
    (service_port,) = service["spec"]["ports"]
    assert service_port["targetPort"] in (port["containerPort"], port["name"])


def test_ingress_has_cookie_affinity_and_long_timeouts() -> None:
    ingress, service = _one("Ingress"), _one("Service")
    notes = ingress["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io/"
    assert notes[prefix + "affinity"] == "cookie"
    assert notes[prefix + "affinity-mode"] == "persistent"
    assert notes[prefix + "session-cookie-name"]
    assert int(notes[prefix + "session-cookie-max-age"]) >= 3600
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(notes[prefix + timeout]) >= 3600, timeout
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    backend = path["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}


def test_redis_class_store_service_and_the_app_points_at_it() -> None:
    """One Redis with append-only persistence on its volume, a Service in front, and the
    app pods' PLAYGROUND_CLASS_STORE naming that Service: a class spans the pods."""
    redis, service = _one("Deployment", "playground-redis"), _one("Service", "playground-redis")
    pod = redis["spec"]["template"]
    assert redis["spec"]["replicas"] == 1 and redis["spec"]["strategy"]["type"] == "Recreate"
    assert redis["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    container = _container(redis)
    args = container["args"]
    assert args[0] == "redis-server"
    flags = dict(zip(args[1::2], args[2::2], strict=True))
    assert flags["--appendonly"] == "yes"
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    (data,) = [n for n, path in mounts.items() if path == flags["--dir"]]
    (volume,) = [v for v in pod["spec"]["volumes"] if v["name"] == data]
    claim = _one("PersistentVolumeClaim", "playground-redis")
    assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]

    (port,) = container["ports"]
    (service_port,) = service["spec"]["ports"]
    assert port["containerPort"] == service_port["port"] == 6379
    assert service_port["targetPort"] in (port["containerPort"], port["name"])
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    # Each Service reaches its own pods only: no visitor is sent to Redis.
    app = _one("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert not _one("Service")["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert not service["spec"]["selector"].items() <= app.items()

    env = {e["name"]: e.get("value") for e in _container(_one("Deployment"))["env"]}
    name = service["metadata"]["name"]
    assert env["PLAYGROUND_CLASS_STORE"] == f"redis://{name}:{service_port['port']}/0"


def test_autoscaler_targets_the_deployment_on_cpu() -> None:
    hpa, deployment = _one("HorizontalPodAutoscaler"), _one("Deployment")
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"]) == (deployment["apiVersion"], "Deployment")
    assert target["name"] == deployment["metadata"]["name"]
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["type"] == "Utilization"


def test_gpu_overlay_asks_for_a_gpu_and_the_gpu_image() -> None:
    (kustomization,) = _docs_of_kind("Kustomization", K8S / "gpu")
    assert kustomization["resources"] == ["../base"]
    (image,) = kustomization["images"]
    deployment = _one("Deployment")
    assert _container(deployment)["image"].split(":")[0] == image["name"]
    assert image["newTag"].endswith("-gpu")
    (patch,) = _docs_of_kind("Deployment", K8S / "gpu")
    assert patch["metadata"]["name"] == deployment["metadata"]["name"]
    pod = patch["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["name"] == _container(deployment)["name"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert pod["nodeSelector"] and pod["tolerations"]


@pytest.mark.parametrize("overlay", ["", "gpu"])
def test_kustomize_builds(overlay: str) -> None:
    """`kubectl kustomize` (offline) renders what `kubectl apply -k` would send."""
    kubectl = shutil.which("kubectl")
    if not kubectl:
        pytest.skip("kubectl is not installed: the manifests were checked by reading only")
    out = subprocess.run(
        [kubectl, "kustomize", str(K8S / overlay)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    kinds = sorted(d["kind"] for d in yaml.safe_load_all(out.stdout))
    app = ["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "Ingress", "Service"]
    assert kinds == sorted([*app, "Deployment", "Service", "PersistentVolumeClaim"])  # + Redis
    if overlay == "gpu":
        assert "nvidia.com/gpu: 1" in out.stdout and "-gpu" in out.stdout
