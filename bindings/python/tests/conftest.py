"""Shared fixtures: the core on each backend, the trap cores, the example server, strict mode.

With ``TOPHAT_PYTEST_STRICT=1`` (set by test/binding-python.test.ts, which runs this suite
from vitest) a test that would skip for a missing input or tool fails instead, so a broken
setup cannot pass as skipped.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, NoReturn

import pytest

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent
REPO_ROOT = PACKAGE_ROOT.parent.parent
# Tests run from a checkout without installing the package.
sys.path.insert(0, str(PACKAGE_ROOT))

from tophat_core import Core  # noqa: E402

STRICT = os.environ.get("TOPHAT_PYTEST_STRICT") == "1"


def unavailable(message: str) -> NoReturn:
    """Skips the test, loudly; fails it under strict mode."""
    if STRICT:
        pytest.fail(f"{message} (TOPHAT_PYTEST_STRICT=1: nothing may be skipped)")
    pytest.skip(message)


#: Every way the binding can run the core: the core module with raw calls (the default),
#: the core module through wasmtime.Func (the fallback when wasmtime-py lacks its C API
#: bindings), and the component through wasmtime's component API.
BACKENDS = ["module", "module-func", "component"]

_cores: Dict[str, Core] = {}


def make_core(backend: str) -> Core:
    """A new Core on ``backend`` (one of BACKENDS)."""
    if backend == "component":
        return Core(backend="component")
    return Core(backend="module", raw_calls=False if backend == "module-func" else None)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each backend in turn; tests that need a fresh Core make one with make_core()."""
    name: str = request.param
    return name


@pytest.fixture
def core(backend: str) -> Core:
    """A Core on each backend in turn, shared by the tests (the core keeps no state)."""
    if backend not in _cores:
        _cores[backend] = make_core(backend)
    return _cores[backend]


@pytest.fixture(scope="session")
def trap_module() -> Path:
    """The test-only core module that traps on method TRAP (dist/test/trap.core.wasm)."""
    trap_core = REPO_ROOT / "dist" / "test" / "trap.core.wasm"
    if not trap_core.is_file():
        unavailable(f"no {trap_core}: `npm run build` makes the test-only trap core")
    return trap_core


@pytest.fixture(scope="session")
def trap_component(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A component of the test-only core that traps on method TRAP (built with node)."""
    given = os.environ.get("TOPHAT_TRAP_COMPONENT")
    if given:
        return Path(given)
    trap_core = REPO_ROOT / "dist" / "test" / "trap.core.wasm"
    if not trap_core.is_file():
        unavailable(f"no {trap_core}: `npm run build` makes the test-only trap core")
    if shutil.which("node") is None or not (REPO_ROOT / "node_modules" / "@bytecodealliance" / "jco-transpile").is_dir():
        unavailable("building the trap component needs node and the repository's node_modules (`npm ci`)")
    out = tmp_path_factory.mktemp("trap") / "trap.component.wasm"
    r = subprocess.run(["node", str(HERE / "make_trap_component.mjs"), str(out)], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"make_trap_component.mjs failed:\n{r.stdout}\n{r.stderr}")
    return out


class Server:
    """The example server (examples/server.py) running in a subprocess."""

    def __init__(self, port: int, proc: "subprocess.Popen[str]") -> None:
        self.port = port
        self.proc = proc
        self.url = f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module", params=["module", "component"])
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    proc = subprocess.Popen(
        [sys.executable, str(PACKAGE_ROOT / "examples" / "server.py"), "--port", "0", "--backend", request.param],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the server listens (or exits)
        if not line.startswith("listening on http://127.0.0.1:"):
            proc.kill()
            _, err = proc.communicate(timeout=10)
            raise RuntimeError(f"the example server did not start: {line!r}\n{err}")
        port = int(line.strip().rsplit(":", 1)[1])
        # Accepting connections already (it printed after binding), but be sure.
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield Server(port, proc)
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        # A traceback means a connection handler crashed: that is a failure even if every
        # client saw the answers it expected.
        assert "Traceback" not in (err or ""), err
