"""The production paths ship what they need: Binder, Zero to JupyterHub, JupyterLite metadata."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
LESSON1 = sorted((ROOT / "lessons").glob("01_*.ipynb"))[0].name
RUNTIME = ("numpy", "matplotlib", "ipywidgets", "jupyterlab", "ipykernel")


# ============================================================================================
# JupyterLite: the package installs in a Pyodide kernel (piplite), where jupyterlab and
# ipykernel cannot be installed
# ============================================================================================

def _pyproject_dependencies() -> list[Requirement]:
    text = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M).group(1)
    return [Requirement(d) for d in re.findall(r'"([^"]+)"', block)]


def _emscripten() -> dict:
    env = default_environment()
    env.update(sys_platform="emscripten", platform_system="Emscripten", platform_machine="wasm32",
               os_name="posix", python_version="3.14", python_full_version="3.14.2")
    return env


def _installed(reqs, env) -> set[str]:
    return {r.name.lower() for r in reqs if r.marker is None or r.marker.evaluate({**env, "extra": ""})}


@pytest.mark.parametrize("source", ["pyproject.toml", "installed metadata"])
def test_jupyterlite_gets_the_science_stack_but_not_the_server_or_kernel(source):
    if source == "pyproject.toml":
        reqs = _pyproject_dependencies()
    else:
        reqs = [Requirement(r) for r in requires("gdcourse") or []]
    # polib (the translation catalogues) is pure Python: it installs in the browser too
    assert _installed(reqs, _emscripten()) == {"numpy", "matplotlib", "ipywidgets", "polib"}
    linux = {**default_environment(), "sys_platform": "linux"}
    assert _installed(reqs, linux) == set(RUNTIME) | {"polib"}


# ============================================================================================
# Binder / repo2docker
# ============================================================================================

def test_binder_folder_installs_the_repository_with_a_supported_python():
    assert not (ROOT / ".binder").exists(), "binder/ and .binder/ are exclusive for repo2docker"
    lines = [ln.split("#")[0].strip() for ln in (ROOT / "binder" / "requirements.txt").read_text().splitlines()]
    assert "." in lines and any(ln.startswith("nbgitpuller") for ln in lines)
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    major, minor = map(int, re.fullmatch(r"python-(\d+)\.(\d+)", runtime).groups())
    low = re.search(r'requires-python = ">=(\d+)\.(\d+)"', (ROOT / "pyproject.toml").read_text())
    assert (major, minor) >= tuple(map(int, low.groups()))
    post = ROOT / "binder" / "postBuild"
    assert post.stat().st_mode & 0o111, "postBuild must be executable"
    assert "@jupyterlab/apputils-extension:announcements" in post.read_text()


def _repo2docker() -> list[str]:
    exe = Path(sys.executable).with_name("repo2docker")
    return [str(exe)] if exe.is_file() else [shutil.which("repo2docker") or "repo2docker"]


def test_repo2docker_dockerfile_copies_the_repository_then_installs_it():
    # --no-build prints the Dockerfile Binder would build; no Docker daemon is needed
    out = subprocess.run(_repo2docker() + ["--no-build", "--debug", "--user-id", "1000",
                                           "--user-name", "jovyan", str(ROOT)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    dockerfile = out.stdout
    assert "Building conda environment for python=3.12" in out.stderr
    copy_all = dockerfile.find("COPY --chown=1000:1000 src/ ${REPO_DIR}/")
    install = dockerfile.find('pip install --no-cache-dir -r "binder/requirements.txt"')
    post = dockerfile.find("RUN ./binder/postBuild")
    assert 0 <= copy_all < install < post, dockerfile[-4000:]
    assert "pip install --no-cache-dir ." not in dockerfile   # binder/ is used, not the root


def test_readme_gives_the_binder_link_to_lesson_1():
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"https://mybinder\.org/v2/gh/[^\s)]+", readme)
    assert match, "README has no Binder link template"
    assert match.group(0).endswith(f"?urlpath=lab/tree/lessons/{LESSON1}")


# ============================================================================================
# Zero to JupyterHub
# ============================================================================================

@pytest.fixture(scope="module")
def z2jh() -> dict:
    return yaml.safe_load((ROOT / "deploy" / "z2jh" / "config.yaml").read_text())


def test_z2jh_values_use_the_repo2docker_image_with_memory_limits(z2jh):
    single = z2jh["singleuser"]
    assert single["image"]["name"].endswith("/gdcourse") and isinstance(single["image"]["tag"], str)
    units = {"K": 1e3, "M": 1e6, "G": 1e9}
    size = lambda s: float(s[:-1]) * units[s[-1]]  # noqa: E731
    assert 256e6 <= size(single["memory"]["guarantee"]) <= size(single["memory"]["limit"]) <= 4e9
    assert single["cpu"]["limit"] >= single["cpu"]["guarantee"] > 0


def test_z2jh_values_open_lesson_1_of_the_pulled_course(z2jh):
    single = z2jh["singleuser"]
    command = single["lifecycleHooks"]["postStart"]["exec"]["command"]
    assert command[0] == "gitpuller" and len(command) == 4   # gitpuller REPO BRANCH TARGET
    target = command[3]
    assert single["defaultUrl"] == f"/lab/tree/{target}/lessons/{LESSON1}"
    assert (ROOT / "lessons" / LESSON1).is_file()
    assert "nbgitpuller" in (ROOT / "binder" / "requirements.txt").read_text()


def test_z2jh_values_cull_idle_servers_and_set_admins_and_language(z2jh):
    assert z2jh["cull"]["enabled"] is True and 600 <= z2jh["cull"]["timeout"] <= 4 * 3600
    auth = z2jh["hub"]["config"]["Authenticator"]
    assert auth["admin_users"] and set(auth["admin_users"]).isdisjoint(auth["allowed_users"])
    overrides = [f for f in z2jh["singleuser"]["extraFiles"].values()
                 if f["mountPath"].endswith("/share/jupyter/lab/settings/overrides.json")]
    assert len(overrides) == 1
    assert overrides[0]["mountPath"].startswith("/srv/conda/envs/notebook/")   # repo2docker's env
    assert overrides[0]["data"]["@jupyterlab/translation-extension:plugin"]["locale"]
    assert z2jh["prePuller"]["hook"]["enabled"] is True


def test_workshop_guide_covers_the_three_paths_and_the_sizing_table():
    guide = (ROOT / "docs" / "workshop.md").read_text()
    for needle in ("gdcourse hub --users", "tljh.jupyter.org/bootstrap.py", "tljh-config set limits.memory",
                   "services.cull.timeout", "helm upgrade --install", "deploy/z2jh/config.yaml",
                   "gdcourse link --hub", "one operating-system user"):
        assert needle in guide, needle
    table = re.search(r"\| users \|.*?\n\n", guide, re.S)
    assert table and len(table.group(0).strip().splitlines()) >= 5, "no sizing table"
