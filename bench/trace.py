"""Trace page vs. a constant route under the same gunicorn, on SQLite and PostgreSQL.

Usage: .venv/bin/python bench/trace.py [--duration 10] [--rounds 3] [--connections 32]
                                       [--only sqlite|postgresql]

For each database it migrates a fresh database, loads the demo (15 batches with a 100-label
unit run each), starts gunicorn (2 workers, production settings), and loads with wrk
(Debian package `wrk`, a C load generator, so it does not eat the two cores):
  (a) GET /livez, a constant string from the same app;
  (b) unit-label trace pages (/trace/01/..., where a label's Digital Link URI redirects)
      picked at random from 31,500 different genuine serials (the demo's runs plus 2,000
      more units per batch), each request resolving the code, verifying its tag, logging
      the scan and counting the unit's scans.
(a) and (b) alternate for --rounds rounds of --duration seconds each, so that a slow
moment of a shared machine falls on both; each round's figures are printed, then the
median of the rounds. It ends with `ratio sqlite: N.NN` and `ratio postgresql: N.NN`
(the median of the rounds' trace requests/s ÷ constant requests/s).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from quick import QUICK, scaled  # bench/quick.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", paths[math.random(#paths)], {["Accept-Language"] = "vi"})
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    print("wrk not found; installing the Debian package", file=sys.stderr)
    installed = subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True)
    if installed.returncode != 0:  # a machine whose package lists were never fetched
        subprocess.run(["apt-get", "update"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    wrk = shutil.which("wrk")
    if not wrk:
        sys.exit("wrk is needed: apt-get install wrk")
    return wrk


def flask(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([str(VENV_BIN / "flask"), "--app", "traceability", *args], cwd=ROOT,
                            env=env, check=True, capture_output=True, text=True)
    return result.stdout


URLS_SCRIPT = """
import sqlalchemy as sa
from traceability import create_app
from traceability.codes.models import LabelRun, LabelLevel
from traceability.batches.models import Batch
from traceability.codes.services import issue_label_run, run_label_url
from traceability.extensions import db
app = create_app()
with app.app_context():
    base = app.config["PUBLIC_BASE_URL"]
    # Consumers scan a unit a few times in its life: a pool of 30,000 units keeps the
    # benchmark's scans per unit near that, under the copy-flag threshold.
    for batch in db.session.scalars(sa.select(Batch)).all():
        issue_label_run(batch, level=LabelLevel.UNIT, count=%(extra_units)d)
    db.session.commit()
    runs = db.session.scalars(sa.select(LabelRun).where(LabelRun.level == LabelLevel.UNIT)).all()
    for run in runs:
        for index in range(run.first_index, run.first_index + run.count):
            print(run_label_url(run, index).removeprefix(base))
"""


def prepare(env: dict[str, str], workdir: Path) -> Path:
    flask(env, "db", "upgrade", "heads")
    flask(env, "demo-load")
    script = URLS_SCRIPT % {"extra_units": scaled(2000, 20, "more units per batch")}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    paths = ["/trace" + line for line in out.splitlines() if line.startswith("/01/")]
    assert len(paths) >= 1000, len(paths)
    path_file = workdir / "paths.txt"
    path_file.write_text("\n".join(paths) + "\n")
    lua = workdir / "trace.lua"
    lua.write_text(LUA % path_file)
    return lua


def parse_wrk(output: str) -> dict[str, float]:
    def ms(value: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = ms(re.search(r"\s50%\s+(\S+)", output).group(1))
    p99 = ms(re.search(r"\s99%\s+(\S+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": rps, "p50": p50, "p99": p99, "non2xx": int(errors.group(1)) if errors else 0}


def wait_until_answering(server: subprocess.Popen, url: str, seconds: float = 60) -> None:
    """Until a worker answers, not only until the socket listens: on a busy machine a worker
    takes seconds to import the app, and a load started before that measures nothing."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"gunicorn did not answer {url} within {seconds:.0f} s")


def run_wrk(wrk: str, url: str, duration: int, connections: int, lua: Path | None = None) -> dict:
    cmd = [wrk, "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    if lua is not None:
        cmd += ["-s", str(lua)]
    output = subprocess.run(cmd + [url], check=True, capture_output=True, text=True).stdout
    return parse_wrk(output)


def bench_database(name: str, database_url: str, args: argparse.Namespace, wrk: str) -> float:
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48),
           "SERIAL_KEYS": "1:" + uuid.uuid4().hex + uuid.uuid4().hex,
           "DATABASE_URL": database_url, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
           "SESSION_COOKIE_SECURE": "1", "DEMO_PASSWORD": uuid.uuid4().hex}
    lua = prepare(env, workdir)
    # An empty configuration instead of the project's gunicorn.conf.py and its access log, as
    # the figures recorded before it existed were measured.
    empty_config = workdir / "gunicorn.conf.py"
    empty_config.write_text("")
    server = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--config", str(empty_config), "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_answering(server, base + "/livez")
        if not QUICK:  # a quick run measures nothing: no warm-up either
            run_wrk(wrk, base + "/livez", 2, args.connections)
            run_wrk(wrk, base + "/", 2, args.connections, lua)
        rounds = []
        for number in range(1, args.rounds + 1):
            constant = run_wrk(wrk, base + "/livez", args.duration, args.connections)
            trace = run_wrk(wrk, base + "/", args.duration, args.connections, lua)
            rounds.append((constant, trace))
            show(f"{name} #{number}", constant, trace)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
    constant = {key: statistics.median(c[key] for c, _t in rounds) for key in ("rps", "p50", "p99", "non2xx")}
    trace = {key: statistics.median(t[key] for _c, t in rounds) for key in ("rps", "p50", "p99", "non2xx")}
    show(f"{name} median", constant, trace)
    return statistics.median(t["rps"] / c["rps"] for c, t in rounds)


def show(name: str, constant: dict, trace: dict) -> None:
    for label, result in (("constant /livez", constant), ("unit trace page", trace)):
        print(f"{name:17} {label:18} {result['rps']:8.1f} req/s   p50 {result['p50']:6.1f} ms"
              f"   p99 {result['p99']:6.1f} ms   non-2xx {result['non2xx']:.0f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per load, per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    args.duration = scaled(args.duration, 1, "s per load")
    args.rounds = scaled(args.rounds, 1, "round(s)")
    wrk = need_wrk()
    ratios: dict[str, float] = {}
    if args.only in (None, "sqlite"):
        folder = Path(tempfile.mkdtemp(prefix="bench-sqlite-"))
        ratios["sqlite"] = bench_database("sqlite", f"sqlite:///{folder}/bench.sqlite3", args, wrk)
        shutil.rmtree(folder, ignore_errors=True)
    if args.only in (None, "postgresql"):
        import sqlalchemy as sa

        name = f"ocop_bench_{uuid.uuid4().hex[:8]}"
        server_url = PG_SERVER.replace("postgresql://", "postgresql+psycopg://", 1)
        admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            url = PG_SERVER.rsplit("/", 1)[0] + "/" + name
            ratios["postgresql"] = bench_database("postgresql", url, args, wrk)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    for name, ratio in ratios.items():
        print(f"ratio {name}: {ratio:.2f}")


if __name__ == "__main__":
    main()
