"""Output into a closed pipe ends a command quietly, as in any Unix tool: exit 141 (128 +
SIGPIPE), nothing on stderr. Real processes and a real shell pipeline."""

from __future__ import annotations

import os
import subprocess
import sys

from unitlib import REPO

ENV = {**os.environ, "PYTHONPATH": str(REPO),
       "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"}


def test_a_closed_pipe_ends_quietly_with_141(spec_dir):
    """The reader is gone before the command writes."""
    process = subprocess.Popen([sys.executable, "-m", "clusterdeploy", "validate"], cwd=spec_dir,
                               env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    _, stderr = process.communicate(timeout=60)
    assert (process.returncode, stderr) == (141, b"")


def test_a_real_shell_pipeline_into_head(spec_dir):
    script = ('python -m clusterdeploy schema-doc | head -c 0; echo "status=${PIPESTATUS[0]}"; '
              'python -m clusterdeploy schema-doc | head -1; echo "status=${PIPESTATUS[0]}"')
    result = subprocess.run(["bash", "-c", script], cwd=spec_dir, capture_output=True,
                            text=True, env=ENV, timeout=60)
    assert result.stderr == ""
    closed, first, whole = result.stdout.splitlines()
    assert closed == "status=141"  # head -c 0 reads nothing and is gone before the write
    assert first.startswith("<!-- BEGIN spec reference")  # what head -1 printed
    assert whole in ("status=0", "status=141")  # all written before head exited, or not
