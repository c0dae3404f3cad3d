"""Estimate each lesson's reading time, in full and on its short path, from the notebooks themselves.

    python docs/lesson_times.py

The model (docs/instructor.md explains it): markdown words at 120 words per minute (a formula counts as one
word), 3 s per visible code line (collapsed verification cells are skipped), 2 min per slider panel.  These are
estimates from measured quantities, not times observed in a class.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

WPM = 120
CODE_LINE_S = 3
PANEL_MIN = 2.0
ALWAYS = ("Learning objectives", "Using this notebook", "Recap", "Check yourself")
ROOT = Path(__file__).resolve().parents[1]


def sections(path: Path) -> list[tuple[str, float]]:
    """(heading, minutes) for each ## section of a notebook, in order."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    out, name, minutes = [], "(top)", 0.0
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            for part in re.split(r"(?m)^(?=## )", src):
                heading = re.match(r"## (.*)", part)
                if heading:
                    out.append((name, minutes))
                    name, minutes = heading.group(1).strip(), 0.0
                minutes += len(re.findall(r"\w+", re.sub(r"\$[^$]*\$", " x ", part))) / WPM
        else:
            if not cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"):
                lines = [line for line in src.split("\n") if line.strip() and not line.strip().startswith("#")]
                minutes += len(lines) * CODE_LINE_S / 60
            if "widgets." in src and "panel" in src:
                minutes += PANEL_MIN
    out.append((name, minutes))
    return out


def short_path(path: Path) -> list[str]:
    """The section numbers named on the lesson's '**Short path:**' line."""
    text = "".join(json.loads(path.read_text(encoding="utf-8"))["cells"][0]["source"])
    line = re.search(r"\*\*Short path:\*\*([^\n]*)", text)
    if not line:
        return []
    core = line.group(1).split(".")[0]
    numbers: list[str] = []
    for a, b in re.findall(r"(\d+)(?:–(\d+))?", re.sub(r"\([^)]*\)", "", core)):
        numbers += [str(k) for k in range(int(a), int(b or a) + 1)]
    return numbers


def main() -> None:
    for path in sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb")):
        parts = sections(path)
        core = set(short_path(path))
        full = sum(m for _, m in parts)
        short = sum(m for name, m in parts if name in ALWAYS or name.split(".")[0] in core)
        print(f"{path.name:<32} full {full:4.0f} min   short path {short:4.0f} min   (sections {sorted(core, key=int)})")


if __name__ == "__main__":
    main()
