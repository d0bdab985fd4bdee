"""The servers the benchmark compares, started on free ports of 127.0.0.1 and stopped after.

- the mock (``mock-gateway serve``), the full thing: auth, rate limits, journal, hygiene;
- a bare Starlette hello-world under uvicorn's defaults (``bare_app.py``);
- WireMock standalone, tuned (no request journal, no request logging), serving static
  stubs of the mock's own answers. Its jar comes from the npm package ``wiremock``,
  installed on demand under ``bench/.cache`` (git-ignored); when npm or Java is missing or
  it does not start, the benchmark says "n/a" for every figure that needs it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("BENCH_CACHE", ROOT / "bench" / ".cache"))
WIREMOCK_PACKAGE = "wiremock@3"  # 3.x ships wiremock-standalone-3.*.jar in build/
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(port: int, path: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as response:
            return bool(response.status < 500)
    except OSError:
        return False


@dataclass
class Server:
    """A started server process, the seconds it took to answer first, and its port."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    startup: float
    stderr: Path | None = field(default=None, repr=False)
    # CPU-seconds the process had used when it first answered: what a loaded machine
    # distorts least (the wall-clock figure also counts the time it waited for a core)
    startup_cpu: float = 0.0

    def cpu_seconds(self) -> float:
        """User + system CPU the process has used so far (all its threads)."""
        user, system = self.cpu_times()
        return user + system

    def cpu_times(self) -> tuple[float, float]:
        """User and system CPU seconds the process has used so far (all its threads)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS

    def cpu_seconds_exact(self) -> float:
        """The same to the nanosecond, from the scheduler's account of each thread (the
        clock ticks of ``cpu_seconds`` are 10 ms: too coarse for a start-up)."""
        total = 0
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            with contextlib.suppress(OSError):  # a thread that just ended
                total += int((task / "schedstat").read_text().split()[0])
        return total / 1e9

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


QUIET_SHARE = 0.05  # of one core: a server using less than this is idle
QUIET_WINDOW = 0.2  # seconds each look at the servers' CPU spans
QUIET_LIMIT = 30.0  # seconds: a server still busy by then is measured anyway


def settle(
    servers: Sequence[Server],
    *,
    window: float = QUIET_WINDOW,
    share: float = QUIET_SHARE,
    limit: float = QUIET_LIMIT,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Wait until every server in ``servers`` is idle (below ``share`` of a core over one
    ``window``), at most ``limit`` seconds; returns how long it waited.

    After a load phase the JVM keeps a whole core busy compiling for up to seconds (measured:
    2.7 s after WireMock's first 3 s phase), so the next phase, whoever's it is, would share a
    core with it and with wrk. Each phase starts on a quiet machine instead."""
    waited = 0.0
    before = [server.cpu_seconds_exact() for server in servers]
    while waited < limit:
        sleep(window)
        waited += window
        now = [server.cpu_seconds_exact() for server in servers]
        used = [after - earlier for after, earlier in zip(now, before, strict=True)]
        if all(seconds < share * window for seconds in used):
            return waited
        before = now
    return waited


def server_environment() -> dict[str, str]:
    """This process's environment, minus ``PYTHONDONTWRITEBYTECODE``: a user's machine keeps
    the ``.pyc`` files of an installed mock, and a start-up that recompiles every module
    (about 60 ms) is not what anyone runs twice."""
    return {name: value for name, value in os.environ.items()
            if name != "PYTHONDONTWRITEBYTECODE"}  # fmt: skip


def start(name: str, command: list[str], port: int, probe: str, timeout: float = 60) -> Server:
    """Start ``command``; wait until ``probe`` answers (the start-up figure is that wait)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=server_environment(),
    )
    while not answers(port, probe):
        if process.poll() is not None or time.perf_counter() - started > timeout:
            process.kill()
            process.wait()
            raise RuntimeError(f"{name} did not start: {' '.join(command)}")
        time.sleep(0.005)
    server = Server(name, process, port, time.perf_counter() - started)
    server.startup_cpu = server.cpu_seconds_exact()
    return server


def start_on_free_port(name: str, command: list[str], probe: str) -> Server:
    """``start`` on a free port of 127.0.0.1, put in place of ``{port}`` in ``command``."""
    port = free_port()
    return start(name, [part.replace("{port}", str(port)) for part in command], port, probe)


def wiremock_jar() -> Path | None:
    """The standalone jar of the npm package ``wiremock``, installed on first use."""
    package = CACHE / "wiremock" / "node_modules" / "wiremock" / "build"
    found = sorted(package.glob("wiremock-standalone-*.jar"))
    if found:
        return found[-1]
    npm = shutil.which("npm")
    if npm is None:
        return None
    (CACHE / "wiremock").mkdir(parents=True, exist_ok=True)
    install = [npm, "install", "--no-audit", "--no-fund", "--prefix", str(CACHE / "wiremock")]
    try:
        subprocess.run([*install, WIREMOCK_PACKAGE], check=True, capture_output=True, timeout=300)
    except (OSError, subprocess.SubprocessError):
        return None
    found = sorted(package.glob("wiremock-standalone-*.jar"))
    return found[-1] if found else None


@dataclass(frozen=True)
class Stub:
    method: str
    path: str
    status: int
    body: bytes
    content_type: str = "application/json"

    def mapping(self) -> dict[str, object]:
        return {
            "request": {"method": self.method, "url": self.path},
            "response": {
                "status": self.status,
                "body": self.body.decode(),
                "headers": {"Content-Type": self.content_type},
            },
        }


def start_wiremock(stubs: list[Stub]) -> Server | None:
    """WireMock standalone, tuned as its docs advise for load, serving ``stubs``; None when
    it cannot be had (no npm, no Java, no start)."""
    java = shutil.which("java")
    jar = wiremock_jar()
    if java is None or jar is None:
        return None
    root = CACHE / "wiremock-root"
    mappings = root / "mappings"
    shutil.rmtree(root, ignore_errors=True)
    mappings.mkdir(parents=True)
    (root / "__files").mkdir()
    for number, stub in enumerate(stubs):
        (mappings / f"stub{number}.json").write_text(json.dumps(stub.mapping()))
    port = free_port()
    command = [
        java, "-jar", str(jar), "--port", str(port), "--bind-address", "127.0.0.1",
        "--root-dir", str(root), "--no-request-journal", "--disable-request-logging",
        "--disable-banner",
    ]  # fmt: skip
    try:
        return start("WireMock", command, port, "/__admin/health", timeout=90)
    except RuntimeError:
        return None
