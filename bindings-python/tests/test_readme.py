"""The README's Python example runs as written."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def extract() -> str:
    text = README.read_text()
    block = re.search(
        r"<!-- python-example:begin -->\s*```python\n(.*?)```\s*<!-- python-example:end -->", text, re.S
    )
    assert block, "no python example between the markers in bindings-python/README.md"
    return block.group(1)


def test_readme_example_runs(tmp_path: pathlib.Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(extract())
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRESOR_")}
    out = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert "a changed message does not verify" in out.stdout
    assert re.search(r"^1220[0-9a-f]{64} ec-curve-25519 \['namespace'\] sealed$", out.stdout, re.M), out.stdout
