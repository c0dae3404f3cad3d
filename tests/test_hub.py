"""``gdcourse hub`` and ``gdcourse link``, for real.

Quick tests read the configuration the hub runs with, the logins, the
copy-once rule and the nbgitpuller links.  The slow tests start a real
JupyterHub (with configurable-http-proxy from npm, installed once into the
cache like the command does) on 127.0.0.1 with throw-away folders, create
users through its REST API, spawn several servers at once, pull a repository
through nbgitpuller, log in through Debian's chromium as one learner, Run All
in lesson 1 and move a slider; afterwards no process of the hub is left.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from traitlets.config import Config

from gdcourse import _hubconfig, hub, links
from gdcourse.cli import main

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import labharness  # noqa: E402

LESSON1 = sorted((ROOT / "lessons").glob("01_*.ipynb"))[0].name


def _settings(tmp_path, **over) -> dict:
    settings = {
        "state_dir": str(tmp_path / "state"), "course": str(ROOT), "ip": "127.0.0.1", "port": 8000,
        "hub_port": 8081, "proxy_api_port": 8001, "proxy": "/x/configurable-http-proxy",
        "users": ["learner01", "learner02"], "admins": ["instructor"], "auth": "firstuse",
        "api_token": "t" * 64, "cull_idle": 3600, "cull_every": 300, "start_timeout": 300,
        "singleuser_args": [], "marker_name": hub.MARKER_NAME, "marker": "abc",
    }
    settings.update(over)
    return settings


# ============================================================================================
# quick: configuration, logins, copy-once, the command's errors
# ============================================================================================

def test_learner_names_are_padded_and_bad_counts_are_refused():
    assert hub.learner_names(3) == ["learner01", "learner02", "learner03"]
    assert hub.learner_names(120)[-1] == "learner120" and hub.learner_names(120)[0] == "learner001"
    for bad in (0, -2, 501, 2.5, True, "30"):
        with pytest.raises(ValueError, match=r"--users must be a whole number from 1 to 500"):
            hub.learner_names(bad)


def test_config_listens_on_loopback_opens_lesson_1_and_culls_idle_servers(tmp_path):
    c = Config()
    _hubconfig.apply(c, _settings(tmp_path))
    assert c.JupyterHub.ip == "127.0.0.1" and c.JupyterHub.hub_ip == "127.0.0.1"
    assert c.ConfigurableHTTPProxy.api_url == "http://127.0.0.1:8001"
    assert c.Spawner.default_url == f"/lab/tree/lessons/{LESSON1}"
    assert c.Spawner.start_timeout >= 120 and c.Spawner.http_timeout >= 120
    assert c.Authenticator.admin_users == {"instructor"}
    assert c.Authenticator.allowed_users == {"learner01", "learner02", "instructor"}
    assert c.JupyterHub.authenticator_class == "firstuseauthenticator.FirstUseAuthenticator"
    assert c.FirstUseAuthenticator.create_users is False
    assert c.SimpleLocalProcessSpawner.home_dir_template == str(tmp_path / "state" / "homes" / "{username}")
    assert c.Spawner.environment["JUPYTER_CONFIG_PATH"] == str(tmp_path / "state" / "jupyter-config")
    culler = [s for s in c.JupyterHub.services if s["name"] == "idle-culler"][0]
    assert culler["command"][1:] == ["-m", "jupyterhub_idle_culler", "--timeout=3600", "--cull-every=300"]
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert "delete:servers" in roles["idle-culler"]["scopes"]
    assert "admin:servers" in roles["gdcourse"]["scopes"]


def test_config_with_a_workshop_password_uses_the_workshop_authenticator(tmp_path):
    c = Config()
    _hubconfig.apply(c, _settings(tmp_path, auth="password", ip="0.0.0.0", port=9999,
                                  password_hash=_hubconfig.hash_password("pw", salt="s"),
                                  admin_password_hash=_hubconfig.hash_password("apw", salt="s")))
    assert c.JupyterHub.authenticator_class is _hubconfig.WorkshopAuthenticator
    assert c.JupyterHub.ip == "0.0.0.0" and c.JupyterHub.port == 9999
    assert c.JupyterHub.hub_ip == "127.0.0.1"   # the hub itself stays internal
    assert "pw" not in json.dumps(c.WorkshopAuthenticator.password_hash.split("$")[-1])


def _login(auth, name, password):
    return asyncio.run(auth.authenticate(None, {"username": name, "password": password}))


def test_workshop_password_lets_learners_in_and_keeps_the_admin_account_apart():
    auth = _hubconfig.WorkshopAuthenticator(
        password_hash=_hubconfig.hash_password("room-42"),
        admin_password_hash=_hubconfig.hash_password("teacher-only"), admin_users={"instructor"})
    assert _login(auth, "learner01", "room-42") == "learner01"
    assert _login(auth, "learner01", "room-43") is None
    assert _login(auth, "learner01", "") is None
    assert _login(auth, "instructor", "room-42") is None          # the whiteboard password
    assert _login(auth, "instructor", "teacher-only") == "instructor"
    assert _login(auth, "learner01", "teacher-only") is None
    assert not _hubconfig.check_password("x", "not-a-hash")
    with pytest.raises(ValueError, match="password must be a non-empty string"):
        _hubconfig.hash_password("")


def test_first_use_authenticator_keeps_the_password_chosen_on_the_first_login(tmp_path):
    from firstuseauthenticator import FirstUseAuthenticator

    auth = FirstUseAuthenticator(dbm_path=str(tmp_path / "passwords.dbm"), create_users=True)
    assert _login(auth, "learner01", "my-own-secret") == "learner01"      # first login sets it
    assert _login(auth, "learner01", "someone-else") is None
    assert _login(auth, "learner01", "my-own-secret") == "learner01"


def test_course_is_copied_into_a_home_once_and_never_over_the_learners_work(tmp_path):
    home = tmp_path / "home"
    assert _hubconfig.copy_course_once(home, ROOT) is True
    lesson = home / "lessons" / LESSON1
    assert lesson.read_bytes() == (ROOT / "lessons" / LESSON1).read_bytes()
    assert (home / "exercises" / LESSON1).is_file()
    lesson.write_text("my notes")
    (home / "exercises" / LESSON1).unlink()
    assert _hubconfig.copy_course_once(home, ROOT) is False
    assert lesson.read_text() == "my notes"
    assert not (home / "exercises" / LESSON1).exists()


def _kana(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" for ch in text)


def _markdown(notebook: Path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
            if c["cell_type"] == "markdown"]


def _locale(settings_dir: Path) -> str:
    plugin = settings_dir / "@jupyterlab" / "translation-extension" / "plugin.jupyterlab-settings"
    return json.loads(plugin.read_text(encoding="utf-8"))["locale"]


def test_hub_language_gives_every_learner_translated_notebooks_and_a_japanese_lab(tmp_path):
    """--lang ja: the spawner environment says ja, and the hook run before each spawn (a real
    spawner of the hub's class) copies the Japanese notebooks and sets JupyterLab's language
    in the learner's own user settings, once: a learner's later choice stays."""
    from jupyterhub.spawner import SimpleLocalProcessSpawner

    c = Config()
    _hubconfig.apply(c, _settings(tmp_path, lang="ja"))
    assert c.Spawner.environment["GDCOURSE_LANG"] == "ja"
    assert c.Spawner.default_url == f"/lab/tree/lessons/{LESSON1}"
    learner = type("User", (), {"name": "learner01"})()   # what the hook reads of the user
    spawner = SimpleLocalProcessSpawner(config=c, user=learner)
    c.Spawner.pre_spawn_hook(spawner)

    home = tmp_path / "state" / "homes" / "learner01"
    settings_dir = Path(spawner.environment["JUPYTERLAB_SETTINGS_DIR"])
    assert settings_dir.is_relative_to(home) and _locale(settings_dir) == "ja_JP"
    assert spawner.environment["GDCOURSE_LANG"] == "ja"
    for folder in ("lessons", "exercises"):
        english, japanese = _markdown(ROOT / folder / LESSON1), _markdown(home / folder / LESSON1)
        assert len(japanese) == len(english) and all(map(_kana, japanese)), folder
        assert not any(map(_kana, english))
    from gdcourse import fonts, i18n

    assert i18n.course_language(home) == "ja" and fonts.active_language(home / "lessons") == "ja"

    plugin = settings_dir / "@jupyterlab" / "translation-extension" / "plugin.jupyterlab-settings"
    plugin.write_text(json.dumps({"locale": "en"}))          # the learner switches to English
    (home / ".gdcourse-copied").unlink()                      # even if the course were copied again
    c.Spawner.pre_spawn_hook(SimpleLocalProcessSpawner(config=c, user=learner))
    assert _locale(settings_dir) == "en"


def test_hub_without_a_language_stays_english_and_bad_languages_are_named(tmp_path, capsys):
    c = Config()
    _hubconfig.apply(c, _settings(tmp_path))
    assert "GDCOURSE_LANG" not in c.Spawner.environment
    from jupyterhub.spawner import SimpleLocalProcessSpawner

    spawner = SimpleLocalProcessSpawner(config=c, user=type("User", (), {"name": "learner02"})())
    c.Spawner.pre_spawn_hook(spawner)
    assert "JUPYTERLAB_SETTINGS_DIR" not in spawner.environment
    home = tmp_path / "state" / "homes" / "learner02"
    assert (home / "lessons" / LESSON1).read_bytes() == (ROOT / "lessons" / LESSON1).read_bytes()
    assert not (home / ".gdcourse").exists()
    with pytest.raises(ValueError, match="--lang must be one of en, ja, zh, ko, fr, but got 'de'"):
        hub.Workshop(tmp_path / "s", users=["a"], proxy="/x", lang="de")
    with pytest.raises(SystemExit):
        main(["hub", "--users", "2", "--lang", "de"])
    assert "--lang: invalid choice: 'de'" in capsys.readouterr().err


def test_workshop_refuses_bad_arguments_with_their_names(tmp_path):
    kw = dict(users=["learner01"], proxy="/x")
    with pytest.raises(ValueError, match="--admin must be a name that is not a learner's"):
        hub.Workshop(tmp_path, admin="learner01", **kw)
    with pytest.raises(ValueError, match="--port must be a TCP port"):
        hub.Workshop(tmp_path, port=70000, **kw)
    with pytest.raises(ValueError, match="--cull-idle must be a whole number of seconds"):
        hub.Workshop(tmp_path, cull_idle=5, **kw)
    with pytest.raises(ValueError, match="--ssl-cert and --ssl-key go together"):
        hub.Workshop(tmp_path, ssl_cert="c.pem", **kw)
    with pytest.raises(ValueError, match="users must name at least one learner"):
        hub.Workshop(tmp_path, users=[], proxy="/x")
    with pytest.raises(hub.HubError, match="configurable-http-proxy not found"):
        hub.Workshop(tmp_path / "s", proxy=tmp_path / "none", **{"users": ["a"]}).start()


def test_written_config_keeps_secrets_private_and_switches_the_news_popup_off(tmp_path):
    w = hub.Workshop(tmp_path / "state", users=["learner01"], password="room-42", proxy="/x")
    config = w.write_config()
    settings = json.loads((config.parent / "hub-settings.json").read_text())
    assert (config.parent / "hub-settings.json").stat().st_mode & 0o077 == 0
    assert "room-42" not in json.dumps(settings) and w.admin_password not in json.dumps(settings)
    assert _hubconfig.check_password("room-42", settings["password_hash"])
    assert _hubconfig.check_password(w.admin_password, settings["admin_password_hash"])
    page = json.loads((config.parent / "jupyter-config" / "labconfig" / "page_config.json").read_text())
    assert page == {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
    c = Config()
    exec(compile(config.read_text(), str(config), "exec"), {"c": c, "__file__": str(config)})
    assert c.JupyterHub.authenticator_class is _hubconfig.WorkshopAuthenticator


def test_hub_command_refuses_without_npm_and_says_where_the_proxy_comes_from(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))   # neither npm nor the proxy
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert hub.find_proxy() is None
    with pytest.raises(hub.HubError, match="comes from the npm registry, and npm is not on PATH"):
        hub.install_proxy()
    assert main(["hub", "--users", "3", "--dir", str(tmp_path / "state")]) == 2
    err = capsys.readouterr().err
    assert "npm is not on PATH" in err and "--proxy PATH" in err
    assert not (tmp_path / "state").exists()


def test_hub_command_names_the_bad_argument(tmp_path, capsys):
    assert main(["hub", "--users", "0"]) == 2
    assert "--users must be a whole number from 1 to 500, but got 0" in capsys.readouterr().err
    assert main(["hub", "--users", "2", "--prestart-parallel", "0"]) == 2
    assert "--prestart-parallel must be a whole number of 1 or more, but got 0" in capsys.readouterr().err
    assert main(["hub", "--users", "2", "--proxy", str(tmp_path / "nope")]) == 2
    assert "--proxy must be the path of configurable-http-proxy" in capsys.readouterr().err


# ============================================================================================
# quick: nbgitpuller links
# ============================================================================================

def _query(url):
    parts = urllib.parse.urlsplit(url)
    return parts, dict(urllib.parse.parse_qsl(parts.query))


def test_link_opens_the_requested_lesson_from_the_pulled_repository(capsys):
    assert main(["link", "--hub", "https://hub.example.org/", "--repo",
                 "https://github.com/someone/gdcourse.git", "--lesson", "3", "--course", str(ROOT)]) == 0
    url = capsys.readouterr().out.strip()
    parts, query = _query(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "hub.example.org", "/hub/user-redirect/git-pull")
    assert query["repo"] == "https://github.com/someone/gdcourse.git" and query["branch"] == "main"
    target, rel = query["urlpath"].removeprefix("lab/tree/").split("/", 1)
    assert target == "gdcourse" and (ROOT / rel).is_file() and rel.startswith("lessons/03_")


def test_link_to_exercises_and_a_target_folder(capsys):
    assert main(["link", "--hub", "http://127.0.0.1:8000", "--repo", "git@github.com:me/course.git",
                 "--exercises", "--targetpath", "gd", "--branch", "dev", "--course", str(ROOT)]) == 0
    _, query = _query(capsys.readouterr().out.strip())
    assert query["targetpath"] == "gd" and query["branch"] == "dev"
    assert query["urlpath"] == f"lab/tree/gd/exercises/{LESSON1}"
    assert links.repo_folder("git@github.com:me/course.git") == "course"


def test_link_names_the_bad_argument(tmp_path, capsys):
    args = ["link", "--repo", "https://github.com/o/gdcourse", "--course", str(ROOT)]
    assert main(args + ["--hub", "hub.example.org"]) == 2
    assert "--hub must be the hub's address starting with http:// or https://" in capsys.readouterr().err
    assert main(args + ["--hub", "https://h", "--lesson", "9"]) == 2
    numbers = sorted(int(p.name[:2]) for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
    assert f"--lesson must be one of {numbers}, but got 9" in capsys.readouterr().err
    assert main(args + ["--hub", "https://h", "--branch", " "]) == 2
    assert "--branch must be a branch name" in capsys.readouterr().err
    from gdcourse.course import copy_course

    copy = copy_course(tmp_path / "copy", source=ROOT)  # a course folder that is not a git clone
    assert main(["link", "--hub", "https://h", "--course", str(copy)]) == 2
    assert "--repo is needed" in capsys.readouterr().err
    with pytest.raises(ValueError, match="--repo must be a git repository URL"):
        links.link("https://h", "", lesson_file="x.ipynb")


# ============================================================================================
# slow: a real hub
# ============================================================================================

def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def proxy():
    try:
        return hub.find_proxy() or hub.install_proxy()
    except hub.HubError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(str(exc), pytrace=False)
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def running_hub(proxy, tmp_path_factory):
    w = hub.Workshop(tmp_path_factory.mktemp("hub") / "state", users=hub.learner_names(2),
                     password="room-42", port=labharness.free_port(), proxy=proxy, cull_idle=600,
                     singleuser_args=["--LabApp.expose_app_in_browser=True"])
    w.start()
    yield w
    w.stop()
    assert w.processes() == [], "processes of the hub are still alive after stop()"
    assert not _port_open(w.port)


def _user_api(w, name, path, timeout=30):
    req = urllib.request.Request(f"{w.url}/user/{name}/{path}",
                                 headers={"Authorization": f"token {w.token}"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, resp.read().decode()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_users_made_through_the_rest_api_get_servers_with_the_course(running_hub):
    w = running_hub
    assert w.create_users(["guest1", "guest2"]) == ["guest1", "guest2"]
    names = {u["name"] for u in w.api("GET", "users")}
    assert {"instructor", "learner01", "learner02", "guest1", "guest2"} <= names
    assert [u["admin"] for u in w.api("GET", "users") if u["name"] == "instructor"] == [True]
    times = w.prestart(["guest1", "guest2", "learner01"], parallel=3)   # three at once
    assert set(times) == {"guest1", "guest2", "learner01"}
    for name in times:
        assert w.server_ready(name)
        home = w.state_dir / "homes" / name
        assert (home / "lessons" / LESSON1).is_file() and (home / "exercises" / LESSON1).is_file()
        status, body = _user_api(w, name, "api/status")
        assert status == 200 and "started" in json.loads(body)
    cmdlines = [Path(f"/proc/{p}/cmdline").read_bytes() for p in w.processes()]
    assert any(b"jupyterhub_idle_culler" in c for c in cmdlines), "the idle culler is not running"
    assert sum(b"jupyterhub-singleuser" in c for c in cmdlines) >= 3
    w.stop_server("guest2")
    assert not w.server_ready("guest2")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_nbgitpuller_link_pulls_updates_and_keeps_the_learners_edit(running_hub, tmp_path):
    w = running_hub
    repo = tmp_path / "gdcourse"
    (repo / "lessons").mkdir(parents=True)
    (repo / "lessons" / LESSON1).write_text("version 1\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "one"], check=True)
    url = links.link(w.url, f"file://{repo}", lesson_file=LESSON1)
    _, query = _query(url)
    w.create_users(["guest1"])   # made and started by the test above; made here when run alone
    w.start_server("guest1")

    def pull():
        status, body = _user_api(w, "guest1", "git-pull/api?" + urllib.parse.urlencode(
            {"repo": query["repo"], "branch": query["branch"]}), timeout=120)
        assert status == 200 and '"phase": "finished"' in body, body[-2000:]

    pull()
    pulled = w.state_dir / "homes" / "guest1" / query["urlpath"].removeprefix("lab/tree/")
    assert pulled.read_text() == "version 1\n"
    pulled.write_text("learner's edit\n")                          # the learner works ...
    (repo / "lessons" / "02_new.ipynb").write_text("new lesson\n")  # ... the course moves on
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "two"], check=True)
    pull()
    assert pulled.read_text() == "learner's edit\n"
    assert (pulled.parent / "02_new.ipynb").read_text() == "new lesson\n"


class _UserServer:
    """What labharness.LabPage needs from a server: URLs, here through the hub's proxy."""

    def __init__(self, w, name):
        self.w, self.name = w, name

    def url(self, path="lab", **query):
        q = urllib.parse.urlencode(query)
        return f"{self.w.url}/user/{self.name}/{path.lstrip('/')}" + (f"?{q}" if q else "")


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.timeout(400)
def test_a_learner_logs_in_lands_in_lesson_1_and_moves_a_slider(running_hub, tmp_path):
    reason = labharness.missing_browser()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    w = running_hub
    w.start_server("learner01")   # pre-started, as `gdcourse hub` does
    with labharness.Chromium(tmp_path) as browser:
        page = browser.new_page()
        page.set_default_timeout(90_000)
        page.goto(f"{w.url}/hub/login")
        page.fill("input[name=username]", "learner01")
        page.fill("input[name=password]", "wrong")
        page.click("[type=submit]")
        assert "/hub/login" in page.url            # a wrong password does not get in
        page.fill("input[name=username]", "learner01")
        page.fill("input[name=password]", "room-42")
        page.click("[type=submit]")
        page.wait_for_url(f"**/user/learner01/lab/tree/lessons/{LESSON1}**")
        page_config = json.loads(page.locator("#jupyter-config-data").text_content())
        # JupyterLab hands the page the names of the disabled plugins
        assert _hubconfig.ANNOUNCEMENTS_PLUGIN in page_config["disabledExtensions"], \
            f"the JupyterLab news pop-up is not disabled: {page_config['disabledExtensions']}"
        lp = labharness.LabPage(_UserServer(w, "learner01"), page)
        lp.open(f"lessons/{LESSON1}")
        lp.run_all()
        lp.wait_until_executed()
        assert lp.unexecuted_cells() == [] and lp.error_outputs() == []
        assert lp.wait_for_widgets(lp.widget_outputs_expected()) and lp.broken_widget_texts() == []
        assert lp.panels().count() >= 1
        slider = labharness.Slider(lp.panels().first, 0)
        slider.root.scroll_into_view_if_needed()
        before = slider.image_src()
        slider.press()
        assert slider.wait_image_change(before, 5_000), "the figure did not change after a slider move"
        assert "official Jupyter news" not in (page.locator("body").text_content() or "")
        page.close()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_japanese_hub_spawns_a_server_whose_lab_and_lesson_1_are_japanese(proxy, tmp_path):
    """One real spawn on a --lang ja hub: what the learner's JupyterLab serves is Japanese (its
    translation setting, lesson 1's markdown) and the server runs with GDCOURSE_LANG=ja."""
    w = hub.Workshop(tmp_path / "state", users=["learner01"], password="room-42",
                     port=labharness.free_port(), proxy=proxy, lang="ja")
    try:
        w.start()
        w.start_server("learner01")
        status, body = _user_api(w, "learner01",
                                 "lab/api/settings/@jupyterlab/translation-extension:plugin")
        assert status == 200 and json.loads(body)["settings"]["locale"] == "ja_JP", body[:500]
        status, body = _user_api(w, "learner01", f"api/contents/lessons/{LESSON1}")
        markdown = ["".join(c["source"]) for c in json.loads(body)["content"]["cells"]
                    if c["cell_type"] == "markdown"]
        assert status == 200 and markdown and all(map(_kana, markdown))
        marker = f"{hub.MARKER_NAME}={w.run_id}".encode()
        servers = [p for p in w.processes()
                   if b"jupyterhub-singleuser" in Path(f"/proc/{p}/cmdline").read_bytes()]
        environ = Path(f"/proc/{servers[0]}/environ").read_bytes().split(b"\0")
        assert marker in environ and b"GDCOURSE_LANG=ja" in environ
    finally:
        w.stop()
    assert w.processes() == [], "processes of the hub are still alive after stop()"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_command_prestarts_servers_culls_idle_ones_and_stops_cleanly_on_sigterm(proxy, tmp_path):
    port = labharness.free_port()
    state = tmp_path / "state"
    cmd = [sys.executable, "-m", "gdcourse.cli", "hub", "--users", "1", "--port", str(port),
           "--dir", str(state), "--password", "room-42", "--proxy", str(proxy), "--cull-idle", "10"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Ready.") or proc.poll() is not None:
                break
        out = "".join(lines)
        assert "Ready." in out, out
        assert "instructor logs in with: " in out and "learner01" in out
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/hub/api/", timeout=10) as resp:
            assert "version" in json.loads(resp.read())
        settings = json.loads((state / "hub-settings.json").read_text())
        marker = f"{hub.MARKER_NAME}={settings['marker']}".encode()
        assert (state / "homes" / "learner01" / "lessons" / LESSON1).is_file()   # pre-started
        # nobody uses the pre-started server: the idle culler stops it after --cull-idle 10 s
        req = urllib.request.Request(f"http://127.0.0.1:{port}/hub/api/users/learner01",
                                     headers={"Authorization": f"token {settings['api_token']}"})
        servers = {"": "running"}
        for _ in range(120):
            with urllib.request.urlopen(req, timeout=10) as resp:
                servers = json.loads(resp.read())["servers"]
            if not servers:
                break
            time.sleep(0.5)  # the culler acts on its own clock; poll the hub for the result
        assert servers == {}, f"the idle culler did not stop the idle server: {servers}"
        assert "Culling server learner01" in (state / "jupyterhub.log").read_text()
    finally:
        proc.terminate()
        rest, _ = proc.communicate(timeout=90)
    assert proc.returncode == 0, out + rest
    assert "Stopping the hub" in rest
    left = [p.name for p in Path("/proc").iterdir() if p.name.isdigit() and _has(p, marker)]
    assert left == [] and not _port_open(port)


def _has(proc_dir: Path, marker: bytes) -> bool:
    try:
        return marker in (proc_dir / "environ").read_bytes().split(b"\0") and \
            Path(proc_dir / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def test_ci_installs_the_same_proxy_into_the_same_cache_as_the_command():
    run = (ROOT / ".ci" / "run").read_text()
    assert f'"{hub.CHP_PACKAGE}"' in run
    assert '${XDG_CACHE_HOME:-$HOME/.cache}/gdcourse/chp' in run
    assert str(hub.proxy_cache_dir()).endswith("gdcourse/chp")
