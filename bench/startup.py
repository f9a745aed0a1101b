"""Start-to-ready time and idle memory of ``kokoro-server serve``.

Starts the server (a prepared model directory, an empty voices directory), times
until ``GET /health`` answers 200, waits ``--idle`` seconds and reads the
process's RSS; then stops it. Several servers can be compared in one run: each
``--server`` is a ``kokoro-server`` executable (for instance one from a checkout
of another commit), and the rounds alternate between them so that whatever else
loads the machine falls on both alike::

    uv run python -m bench.startup --model-dir ~/.local/share/kokoro-server/model \\
        --server .venv/bin/kokoro-server --server /tmp/before/.venv/bin/kokoro-server \\
        --rounds 5 --markdown out.md

Figures are medians (and ranges) over the rounds. A first request's cost is not
part of this: the server warms up before it reports ready.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


@dataclass
class Runs:
    server: str
    ready_s: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def one_start(server: str, model_dir: Path, idle_s: float, timeout_s: float) -> tuple[float, float]:
    port = _free_port()
    with tempfile.TemporaryDirectory() as voices:
        env = {
            **os.environ,
            "KOKORO_MODEL_DIR": str(model_dir),
            "KOKORO_VOICES_DIR": voices,
            "KOKORO_PORT": str(port),
            "KOKORO_LOG_LEVEL": "warning",
        }
        started = time.perf_counter()
        process = subprocess.Popen([server, "serve"], env=env, stdout=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}/health"
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{server} exited with {process.returncode}")
                if time.perf_counter() - started > timeout_s:
                    raise RuntimeError(f"{server} was not ready after {timeout_s} s")
                try:
                    if httpx.get(url, timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.02)
            ready = time.perf_counter() - started
            time.sleep(idle_s)
            return ready, rss_mib(process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)


def spread(values: list[float], unit: str, digits: int) -> str:
    return (
        f"{statistics.median(values):.{digits}f} {unit} "
        f"({min(values):.{digits}f}-{max(values):.{digits}f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, required=True, help="a prepared model directory")
    parser.add_argument(
        "--server", action="append", help="a kokoro-server executable (repeat to compare)"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--idle", type=float, default=3.0, help="seconds idle before the RSS")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    args = parser.parse_args()
    servers = args.server or ["kokoro-server"]
    runs = [Runs(server) for server in servers]
    for round_number in range(args.rounds):
        for run in runs:
            ready, rss = one_start(run.server, args.model_dir, args.idle, args.timeout)
            run.ready_s.append(ready)
            run.rss_mib.append(rss)
            print(f"round {round_number + 1} {run.server}: ready {ready:.2f} s, RSS {rss:.0f} MiB")
    lines = [
        f"{platform.machine()}, {os.cpu_count()} cores, {args.rounds} rounds, RSS after "
        f"{args.idle:g} s idle; median (range)",
        "",
        "| Server | Start to ready | Idle RSS |",
        "| --- | --- | --- |",
        *(
            f"| `{run.server}` | {spread(run.ready_s, 's', 2)} | {spread(run.rss_mib, 'MiB', 0)} |"
            for run in runs
        ),
    ]
    print("\n".join(lines))
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
