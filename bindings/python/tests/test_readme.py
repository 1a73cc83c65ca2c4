"""The README's code sample is examples/incremental.py's, verbatim, and it runs."""
from __future__ import annotations

import subprocess
import sys

from conftest import PACKAGE_ROOT

START = "# --- README sample start ---\n"
END = "# --- README sample end ---\n"


def sample() -> str:
    text = (PACKAGE_ROOT / "examples" / "incremental.py").read_text(encoding="utf-8")
    return text[text.index(START) + len(START):text.index(END)]


def test_readme_holds_the_sample_verbatim() -> None:
    readme = (PACKAGE_ROOT / "README.md").read_text(encoding="utf-8")
    assert f"```python\n{sample()}```" in readme


def test_the_sample_runs() -> None:
    r = subprocess.run([sys.executable, str(PACKAGE_ROOT / "examples" / "incremental.py")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "GET /a\nPOST /b\nPUT /c\n400 multiple-host at byte 26\n"
