"""The sharding examples in docs/ (a Kubernetes Indexed Job, a Slurm array script) are sound."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_kubernetes_job_is_an_indexed_job_whose_pods_grade_one_shard_each():
    docs = list(yaml.safe_load_all((DOCS / "grading" / "k8s-grading-job.yaml").read_text()))
    assert len(docs) == 1
    job = docs[0]
    assert job["apiVersion"] == "batch/v1" and job["kind"] == "Job" and job["metadata"]["name"]
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    n = spec["completions"]
    assert isinstance(n, int) and n >= 2 and spec["parallelism"] <= n
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] in ("Never", "OnFailure")
    (container,) = pod["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["SHARDS"] == str(n) and env["SEED"].isdigit()
    command = " ".join(container["command"] + container["args"])
    assert "gdcourse grade" in command and '--seed "$SEED"' in command
    assert '--shard "$((JOB_COMPLETION_INDEX + 1))/$SHARDS"' in command
    out = re.search(r'--out "([^"]+)"', command).group(1)
    assert "$((JOB_COMPLETION_INDEX + 1))" in out  # one part file per shard
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert out.startswith(mounts["data"]) and "/data/submitted" in command
    assert any(v["name"] == "data" for v in pod["volumes"])


def test_slurm_array_script_grades_one_shard_per_task():
    text = (DOCS / "grading" / "slurm-grading.sh").read_text()
    assert text.startswith("#!/bin/bash\n")
    lo, hi = map(int, re.search(r"^#SBATCH --array=(\d+)-(\d+)$", text, re.M).groups())
    shards = int(re.search(r"^SHARDS=(\d+)$", text, re.M).group(1))
    assert lo == 1 and hi == shards >= 2
    assert '--shard "$SLURM_ARRAY_TASK_ID/$SHARDS"' in text and '--seed "$SEED"' in text
    assert '--out "parts/part-$SLURM_ARRAY_TASK_ID.csv"' in text
    # every #SBATCH line comes before the first command, or Slurm ignores it
    lines = text.splitlines()
    first_command = next(i for i, line in enumerate(lines) if line and not line.startswith("#"))
    assert all(i < first_command for i, line in enumerate(lines) if line.startswith("#SBATCH"))
    if shutil.which("bash"):
        subprocess.run(["bash", "-n", str(DOCS / "grading" / "slurm-grading.sh")], check=True)


@pytest.mark.parametrize("name", ["k8s-grading-job.yaml", "slurm-grading.sh"])
def test_the_docs_page_links_the_examples(name):
    page = (DOCS / "sharding.md").read_text()
    assert f"(grading/{name})" in page and (DOCS / "grading" / name).exists()
