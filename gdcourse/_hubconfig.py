"""The JupyterHub configuration behind ``gdcourse hub`` (imported by the hub process only).

``gdcourse hub`` writes ``hub-settings.json`` (mode 0600) and a two-line
``jupyterhub_config.py`` into its state folder; JupyterHub runs that file,
which calls :func:`apply` on its config object ``c``.  Keeping the settings as
data and the logic here means the configuration can be read and tested as
ordinary Python, without a hub.

Needs the ``hub`` extra (``pip install "gdcourse[hub]"``): jupyterhub,
jupyterhub-idle-culler, jupyterhub-firstuseauthenticator and nbgitpuller.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sys
from pathlib import Path

from jupyterhub.auth import Authenticator
from traitlets import Unicode

from . import i18n
from .course import ANNOUNCEMENTS_PLUGIN, copy_course

__all__ = ["apply", "load_settings", "hash_password", "check_password", "WorkshopAuthenticator",
           "copy_course_once", "lab_language_default", "ANNOUNCEMENTS_PLUGIN", "COPIED_MARKER"]

#: Written into a learner's home once the course has been copied there.
COPIED_MARKER = ".gdcourse-copied"
_ITERATIONS = 200_000


def hash_password(password: str, *, salt: str | None = None) -> str:
    """``pbkdf2_sha256$iterations$salt$hex``: the settings file never holds a password."""
    if not isinstance(password, str) or not password:
        raise ValueError("password must be a non-empty string.")
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), _ITERATIONS).hex()
    return f"pbkdf2_sha256${_ITERATIONS}${salt}${digest}"


def check_password(password, stored: str) -> bool:
    """Whether ``password`` matches a :func:`hash_password` string (constant-time compare)."""
    try:
        kind, iterations, salt, digest = stored.split("$")
    except (AttributeError, ValueError):
        return False
    if kind != "pbkdf2_sha256" or not isinstance(password, str):
        return False
    mine = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations)).hex()
    return hmac.compare_digest(mine, digest)


class WorkshopAuthenticator(Authenticator):
    """One workshop password for every learner, and a separate one for the admins.

    Like JupyterHub's DummyAuthenticator, but the instructor's account cannot
    be opened with the password written on the whiteboard.
    """

    password_hash = Unicode("", config=True, help="hash_password() of the learners' password")
    admin_password_hash = Unicode("", config=True, help="hash_password() of the admins' password")

    async def authenticate(self, handler, data):
        name = self.normalize_username((data or {}).get("username", "") or "")
        password = (data or {}).get("password", "")
        stored = self.admin_password_hash if name in self.admin_users else self.password_hash
        if name and stored and check_password(password, stored):
            return name
        return None


def copy_course_once(home, course, lang: str | None = None) -> bool:
    """Copy the course's lessons/ and exercises/ into ``home`` the first time only.

    Returns True when it copied.  After the first copy a marker file stays in
    the home: a learner's edited, renamed or deleted notebooks are never
    touched again by the hub (course updates come through nbgitpuller links).
    With ``lang`` the notebooks are the translated ones (gdcourse.i18n).
    """
    home = Path(home)
    marker = home / COPIED_MARKER
    if marker.exists():
        return False
    home.mkdir(parents=True, exist_ok=True)
    copy_course(home, source=course, overwrite=False, lang=lang)
    marker.write_text("The hub copied the course here once; it never copies it again.\n",
                      encoding="utf-8")
    return True


def lab_language_default(home, lang: str) -> Path:
    """The learner's JupyterLab user-settings folder (``home/.gdcourse/lab-user-settings``), with
    the interface language ``lang`` written there the first time only: it is a default, so a
    learner who picks another language in Settings ▸ Language keeps it."""
    settings = Path(home) / i18n._STATE / "lab-user-settings"
    if not settings.joinpath(*i18n._TRANSLATION_PLUGIN).exists():
        settings = i18n.lab_settings_dir(home, lang)
    return settings


def load_settings(path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _first_lesson(course: Path) -> str:
    first = sorted((course / "lessons").glob("[0-9][0-9]_*.ipynb"))
    return f"/lab/tree/lessons/{first[0].name}" if first else "/lab"


def apply(c, settings: dict) -> None:
    """Fill JupyterHub's config ``c`` from the settings ``gdcourse hub`` wrote."""
    state = Path(settings["state_dir"])
    course = Path(settings["course"])
    homes = state / "homes"
    homes.mkdir(parents=True, exist_ok=True)
    marker_env = {settings["marker_name"]: settings["marker"]}

    # --- network: the public proxy on ip:port, everything internal on loopback ---------------
    c.JupyterHub.ip = settings["ip"]
    c.JupyterHub.port = settings["port"]
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = settings["hub_port"]
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['proxy_api_port']}"
    c.ConfigurableHTTPProxy.command = [settings["proxy"]]
    c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
    if settings.get("ssl_cert"):
        c.JupyterHub.ssl_cert = settings["ssl_cert"]
        c.JupyterHub.ssl_key = settings["ssl_key"]
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
    c.JupyterHub.cleanup_servers = True   # stopping the hub stops every learner's server
    c.JupyterHub.cleanup_proxy = True

    # --- logins -------------------------------------------------------------------------------
    admins = set(settings["admins"])
    c.Authenticator.admin_users = admins
    c.Authenticator.allowed_users = set(settings["users"]) | admins
    if settings["auth"] == "password":
        c.JupyterHub.authenticator_class = WorkshopAuthenticator
        c.WorkshopAuthenticator.password_hash = settings["password_hash"]
        c.WorkshopAuthenticator.admin_password_hash = settings["admin_password_hash"]
    else:
        # learners choose their own password on their first login; names are the allowed ones
        c.JupyterHub.authenticator_class = "firstuseauthenticator.FirstUseAuthenticator"
        c.FirstUseAuthenticator.dbm_path = str(state / "passwords.dbm")
        c.FirstUseAuthenticator.create_users = False

    # --- the learners' servers: JupyterLab on a home folder of their own ------------------------
    c.JupyterHub.spawner_class = "simple"
    c.SimpleLocalProcessSpawner.home_dir_template = str(homes / "{username}")
    singleuser = Path(sys.executable).with_name("jupyterhub-singleuser")
    c.Spawner.cmd = [str(singleuser)] if singleuser.is_file() else [
        sys.executable, "-m", "jupyterhub.singleuser"]
    args = list(settings.get("singleuser_args", []))
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")   # containers and CI machines run as root
    c.Spawner.args = args
    c.Spawner.default_url = _first_lesson(course)
    lang = settings.get("lang")   # --lang: the hub's default language, None for English
    c.Spawner.environment = {
        # labconfig/page_config.json there switches the news pop-up off
        "JUPYTER_CONFIG_PATH": str(state / "jupyter-config"),
        "JUPYTER_PLATFORM_DIRS": "1",
        # the package's messages and figures (gdcourse.fonts) follow the hub's language
        **({"GDCOURSE_LANG": lang} if lang is not None else {}),
        **marker_env,
    }
    # 30 servers starting at once take ~70 s of CPU on 2 cores: the default 60 s is too short
    c.Spawner.start_timeout = settings.get("start_timeout", 300)
    c.Spawner.http_timeout = settings.get("start_timeout", 300)
    c.JupyterHub.concurrent_spawn_limit = max(100, len(settings["users"]) + len(admins))

    def pre_spawn_hook(spawner):
        home = homes / spawner.user.name
        copy_course_once(home, course, lang=lang)
        if lang is not None:
            # JupyterLab's interface language: a default in the learner's own user settings
            spawner.environment = {**spawner.environment,
                                   "JUPYTERLAB_SETTINGS_DIR": str(lab_language_default(home, lang))}

    c.Spawner.pre_spawn_hook = pre_spawn_hook

    # --- services: the idle culler, and gdcourse's own token for pre-starting servers -----------
    c.JupyterHub.services = [
        {"name": "gdcourse", "api_token": settings["api_token"]},
        {"name": "idle-culler", "environment": dict(marker_env),
         "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                     f"--timeout={settings['cull_idle']}", f"--cull-every={settings['cull_every']}"]},
    ]
    c.JupyterHub.load_roles = [
        {"name": "gdcourse", "services": ["gdcourse"],
         "scopes": ["admin:users", "admin:servers", "list:users", "read:users", "access:servers"]},
        {"name": "idle-culler", "services": ["idle-culler"],
         "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
    ]
