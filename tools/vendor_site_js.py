#!/usr/bin/env python3
"""Refresh the JavaScript that ``gdcourse site`` copies into every website (maintainers only).

The course website must work with no network: its pages may load nothing from
outside their own folder.  By default Sphinx, myst-nb and the widget manager
load require.js, ``@jupyter-widgets/html-manager`` and MathJax from public
CDNs, so the few files the pages need are committed in
``gdcourse/_site/vendor/`` together with their licences, and ``gdcourse site``
copies them from there: a site build needs neither node nor a network.

This script is how those files got there and how they are updated.  It runs
``npm pack`` (the npm registry, at set-up time) for the pinned versions below,
keeps only the files a page requests, and writes ``MANIFEST.json`` with each
package's npm integrity and each file's sha256; ``tests/test_site.py`` checks
the committed files against that manifest.

    python tools/vendor_site_js.py            # rewrite gdcourse/_site/vendor/
    python tools/vendor_site_js.py --check    # only compare with a fresh npm pack
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENDOR = REPO / "gdcourse" / "_site" / "vendor"

#: npm spec -> list of (glob inside the package, folder inside vendor/).
#: Only what a page asks for: the combined MathJax component with the TeX
#: extensions it autoloads and its CHTML fonts; the AMD build of the widget
#: manager and the woff2 icon fonts its CSS names; require.js itself.
PACKAGES = {
    "requirejs@2.3.7": [("require.js", "")],
    "@jupyter-widgets/html-manager@1.0.15": [("dist/embed-amd.js", "html-manager"),
                                             ("dist/*.woff2", "html-manager"),
                                             ("dist/embed.js.LICENSE.txt", "html-manager")],
    "mathjax@3.2.2": [("es5/tex-mml-chtml.js", "mathjax"),
                      ("es5/input/tex/extensions/*.js", "mathjax/input/tex/extensions"),
                      ("es5/output/chtml/fonts/woff-v2/*.woff", "mathjax/output/chtml/fonts/woff-v2"),
                      ("LICENSE", "mathjax")],
    # only for its licence: the widget manager's icon fonts are Font Awesome Free 5
    "@fortawesome/fontawesome-free@5.15.4": [("LICENSE.txt", "html-manager/fontawesome")],
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _npm_pack(spec: str, dest: Path) -> dict:
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("vendor_site_js: npm is not installed (Debian: apt-get install npm)")
    out = subprocess.run([npm, "pack", "--json", spec], cwd=dest, check=True,
                         capture_output=True, text=True).stdout
    info = json.loads(out)[0]
    with tarfile.open(dest / info["filename"]) as tar:
        tar.extractall(dest / info["filename"].removesuffix(".tgz"), filter="data")
    info["root"] = dest / info["filename"].removesuffix(".tgz") / "package"
    return info


def collect(target: Path) -> dict:
    """npm-pack every package into a temporary folder and copy the chosen files into ``target``."""
    manifest = {"about": "written by tools/vendor_site_js.py; do not edit by hand", "packages": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for spec, rules in PACKAGES.items():
            info = _npm_pack(spec, Path(tmp))
            files = {}
            for pattern, folder in rules:
                matches = sorted(info["root"].glob(pattern))
                if not matches:
                    sys.exit(f"vendor_site_js: {spec} has no file matching {pattern!r}")
                for src in matches:
                    dst = target / folder / src.name
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src, dst)
                    files[dst.relative_to(target).as_posix()] = _sha256(dst)
            package = json.loads((info["root"] / "package.json").read_text(encoding="utf-8"))
            manifest["packages"][info["name"]] = {
                "version": info["version"], "license": package.get("license"),
                "npm_integrity": info["integrity"], "files": files}
    return manifest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare the committed files with a fresh npm pack; change nothing")
    args = parser.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = collect(Path(tmp))
        committed = json.loads((VENDOR / "MANIFEST.json").read_text(encoding="utf-8"))
        if fresh["packages"] != committed["packages"]:
            print("gdcourse/_site/vendor/ differs from npm: run tools/vendor_site_js.py")
            return 1
        print("gdcourse/_site/vendor/ matches npm")
        return 0
    keep = {VENDOR / "LICENSES.md"}
    if VENDOR.exists():
        for path in sorted(VENDOR.rglob("*"), reverse=True):
            if path.is_file() and path not in keep:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    VENDOR.mkdir(parents=True, exist_ok=True)
    manifest = collect(VENDOR)
    (VENDOR / "MANIFEST.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in VENDOR.rglob("*") if p.is_file())
    print(f"wrote {VENDOR} ({total / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
