"""Every command in README.md's ```sh blocks runs as written, in a fresh copy of this working tree.

The copy holds the tracked and new files of the working tree (never the developer's instance/
or .flaskenv) and a `.venv` that mirrors this interpreter's virtual environment through
symlinks, with its own install markers: `make run` finds its requirements installed, and this
test never installs into the shared environment. The commands run in README order, each
through bash from the copy's root: `make run` sets the demo up there (migration, demo data,
.flaskenv) as it would for a newcomer. A command that serves (SERVERS) is started, probed over
HTTP or by its output, and stopped as Ctrl-C would; a benchmark runs short (BENCH_QUICK=1, see
bench/quick.py). A command that fails, or prints what it should not, fails the test.

What the test supplies is listed here and nowhere else:
- PLACEHOLDERS: values for the README's placeholders (BATCH_ID, USER@HOST, SECRET_KEY=…),
  from the demo data and a throwaway PostgreSQL database, and a free port for gunicorn's
  fixed 8000 (a fixed port may be taken on a shared machine);
- the environment: PORT (a free port for `make run`, for the same reason),
  the PostgreSQL server for `createdb` (PGHOST, PGPORT, PGUSER) and for bench/trace.py
  (BENCH_PG_URL), BENCH_QUICK=1 for the benchmarks; `export` lines last until the end of
  their block, as they would in one terminal;
- standard input for the password prompt of `users create`;
- EXCLUDED: the commands not run, each with its reason.

PostgreSQL: the server of TEST_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432
(.ci/run starts it before both runs of the suite).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
COMMAND_TIMEOUT = 300  # seconds; a command still running then has hung
START_TIMEOUT = 120    # seconds for a server to answer; workers import the app slowly on a busy machine


@dataclass(frozen=True)
class Command:
    section: str  # the README heading it is under
    block: int    # which ```sh block of the README
    text: str     # as written (a `\` line continuation kept)

    @property
    def line(self) -> str:
        """On one line, without a trailing comment: how the tables below name it."""
        joined = re.sub(r"\\\n\s*", " ", self.text)
        return re.sub(r"\s+#\s.*$", "", joined).strip()


def readme_commands() -> list[Command]:
    commands: list[Command] = []
    section = ""
    in_block, block = False, -1
    pending = ""
    for raw in README.read_text(encoding="utf-8").splitlines():
        if not in_block:
            if raw.startswith("#"):
                section = raw.lstrip("#").strip()
            elif raw.strip() == "```sh":
                in_block, block = True, block + 1
            continue
        if raw.strip() == "```":
            assert not pending, f"a command ends with a line continuation in block {block}"
            in_block = False
            continue
        if not pending and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        pending += raw + "\n"
        if not raw.endswith("\\"):
            commands.append(Command(section, block, pending.rstrip("\n")))
            pending = ""
    return commands


COMMANDS = readme_commands()
BENCHMARKS = [command for command in COMMANDS if command.line.startswith(".venv/bin/python bench/")]

EXCLUDED = {
    "make test": "the suite this test is part of",
    "TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres make test":
        "the same suite on PostgreSQL, which .ci/run runs",
}


# ------------------------------------------------------------------ the copy and its world

@dataclass
class Checkout:
    root: Path
    env: dict[str, str]
    postgres: sa.URL
    database: str  # the throwaway database `createdb` makes
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    serial_key: str = field(default_factory=lambda: secrets.token_hex(32))
    banner_url: str | None = None  # the URL the last `make run` said to open

    def demo_value(self, sql: str) -> str:
        with closing(sqlite3.connect(self.root / "instance" / "ocop_trace.sqlite3")) as conn:
            row = conn.execute(sql).fetchone()
        assert row and row[0] is not None, f"no demo data for {sql!r}: did `make run` load it?"
        return str(row[0])

    def flaskenv(self) -> dict[str, str]:
        lines = (self.root / ".flaskenv").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_server() -> sa.URL:
    configured = os.environ.get("TEST_DATABASE_URL", "")
    url = configured if configured.startswith("postgres") else "postgresql://postgres@127.0.0.1:5432/postgres"
    return sa.make_url(url.replace("postgres://", "postgresql://", 1))


def _admin_engine(server: sa.URL) -> sa.Engine:
    return sa.create_engine(server.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")


def _copy_working_tree(dest: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, check=True, capture_output=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():  # a deleted file is still listed
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def _mirror_venv(dest: Path) -> None:
    venv = Path(sys.prefix)
    assert venv != Path(sys.base_prefix), "run the suite with the project's .venv/bin/python"
    (dest / ".venv").mkdir()
    for entry in venv.iterdir():
        if not entry.name.startswith(".installed"):
            (dest / ".venv" / entry.name).symlink_to(entry)
    for marker in (".installed", ".installed-dev"):
        (dest / ".venv" / marker).touch()


# Variables that would make a command read something else than the README says.
PROJECT_VARIABLES = {"APP_ENV", "DATABASE_URL", "SECRET_KEY", "SERIAL_KEYS", "SERIAL_KEY_VERSION",
                     "PUBLIC_BASE_URL", "HOST", "PORT", "DEMO_PASSWORD", "TEST_DATABASE_URL",
                     "RATELIMIT_STORAGE_URI", "UPLOAD_FOLDER", "PRIVATE_FOLDER", "GENERATED_FOLDER",
                     "VIRTUAL_ENV", "PYTHONPATH", "MAKEFLAGS", "MFLAGS", "BENCH_QUICK"}


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checkout]:
    root = tmp_path_factory.mktemp("readme") / "ocop-trace"
    root.mkdir()
    _copy_working_tree(root)
    _mirror_venv(root)
    server = _postgres_server()
    admin = _admin_engine(server)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.fail(f"the README's PostgreSQL commands need a server at "
                    f"{server.render_as_string(hide_password=True)} ({exc.orig}); .ci/run starts one")
    env = {key: value for key, value in os.environ.items()
           if key not in PROJECT_VARIABLES and not key.startswith(("FLASK_", "PYTEST_", "PG"))}
    env.update(PYTHONUNBUFFERED="1", PGHOST=server.host or "127.0.0.1", PGPORT=str(server.port or 5432),
               PGUSER=server.username or "postgres",
               BENCH_PG_URL=server.render_as_string(hide_password=False))
    if server.password:
        env["PGPASSWORD"] = server.password
    world = Checkout(root=root, env=env, postgres=server, database=f"ocop_trace_readme_{uuid.uuid4().hex[:8]}")
    yield world
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{world.database}" WITH (FORCE)'))
    admin.dispose()


# ------------------------------------------------------------------ placeholders

def _throwaway_url(world: Checkout) -> str:
    return world.postgres.set(database=world.database).render_as_string(hide_password=False)


PLACEHOLDERS: dict[str, Callable[[Checkout], str]] = {
    # The first demo batch; its demo run has 100 unit labels (printing the 100,000 that
    # `labels issue` adds would take minutes, and the README says RUN_ID, any run).
    "BATCH_ID": lambda w: w.demo_value("SELECT min(id) FROM batches"),
    "RUN_ID": lambda w: w.demo_value("SELECT min(id) FROM label_runs WHERE level = 'unit' AND count = 100"),
    "createdb ocop_trace": lambda w: f"createdb {w.database}",
    "postgresql://USER@HOST:5432/ocop_trace": _throwaway_url,
    "SECRET_KEY=…": lambda w: f"SECRET_KEY={w.secret_key}",
    "SERIAL_KEYS=1:…": lambda w: f"SERIAL_KEYS=1:{w.serial_key}",
    "--email …": lambda w: "--email can.bo.readme@example.org",
    # A fixed port may be taken on a shared machine.
    "--bind 0.0.0.0:8000": lambda w: f"--bind 127.0.0.1:{free_port()}",
}
STDIN = {
    ".venv/bin/flask --app traceability users create --role officer --email … --region 51":
        "mat-khau-readme-2026\nmat-khau-readme-2026\n",
}


def substituted(text: str, world: Checkout) -> str:
    for placeholder, value in PLACEHOLDERS.items():
        if placeholder in text:
            text = text.replace(placeholder, value(world))
    return text


# ------------------------------------------------------------------ running

def run(script: str, world: Checkout, *, stdin: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", script], cwd=world.root, env=env or world.env, input=stdin,
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT)


def http_get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.status, answer.read()


class Server:
    """A command that serves, started in its own process group, its output in a file."""

    def __init__(self, script: str, world: Checkout, env: dict[str, str]) -> None:
        self.log = world.root / f"server-{uuid.uuid4().hex[:6]}.log"
        self.handle = self.log.open("w")
        self.process = subprocess.Popen(["bash", "-c", script], cwd=world.root, env=env,
                                        stdout=self.handle, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, found: Callable[[], object], what: str) -> object:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            result = found()
            if result:
                return result
            assert self.process.poll() is None, f"exited ({self.process.returncode}) before {what}:\n{self.output()}"
            time.sleep(0.2)
        raise AssertionError(f"no {what} within {START_TIMEOUT} s:\n{self.output()}")

    def answering(self, url: str) -> bool:
        try:
            return http_get(url)[0] == 200
        except OSError:
            return False

    def stop(self, signum: int = signal.SIGINT) -> int | None:
        """As Ctrl-C in its terminal: the signal goes to the whole process group."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signum)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.handle.close()
        return self.process.returncode


def serve_make_run(server: Server, world: Checkout) -> None:
    banner = server.wait_for(lambda: re.search(r"OCOP Trace: open (\S+)/ ", server.output()),
                             "start-up banner")
    base = banner.group(1)
    server.wait_for(lambda: server.answering(base + "/livez"), f"answer at {base}/livez")
    out = server.output()
    assert ".venv/bin/flask --app traceability demo-accounts" in out
    assert ".venv/bin/flask --app traceability demo-samples" in out
    # The address the banner gives is the one QR codes carry, and the one .flaskenv keeps.
    status, body = http_get(base + "/.well-known/gs1resolver")
    assert json.loads(body)["resolverRoot"] == base
    assert world.flaskenv()["PUBLIC_BASE_URL"] == base
    assert world.flaskenv()["APP_ENV"] == "development"
    world.banner_url = base


def serve_gunicorn(server: Server, world: Checkout, script: str) -> None:
    port = re.search(r"--bind 127\.0\.0\.1:(\d+)", script).group(1)
    url = f"http://127.0.0.1:{port}/healthz"
    server.wait_for(lambda: server.answering(url), f"answer at {url}")
    assert json.loads(http_get(url)[1]) == {"status": "ok", "database": "ok"}


def serve_print_jobs(server: Server, world: Checkout) -> None:
    server.wait_for(lambda: "running print jobs" in server.output(), "'running print jobs'")


# What serves: how it is probed, and whether Ctrl-C (SIGINT), sent after the probe, must end it
# with status 0 (make reports an interrupted recipe as a failure, whatever gunicorn did).
SERVERS: dict[str, tuple[Callable[[Server, Checkout, str], None], bool]] = {
    "make run": (lambda s, w, script: serve_make_run(s, w), False),
    "make run HOST=0.0.0.0": (lambda s, w, script: serve_make_run(s, w), False),
    ".venv/bin/gunicorn --workers 2 --bind 0.0.0.0:8000 wsgi:app": (serve_gunicorn, True),
    ".venv/bin/flask --app traceability print-jobs run": (lambda s, w, script: serve_print_jobs(s, w), True),
}


def check_demo_samples(out: str, world: Checkout) -> None:
    samples = [json.loads(line) for line in out.splitlines()]
    assert [s["case"] for s in samples] == ["valid", "expiring", "expired", "revoked", "forged"]
    # Made from the last `make run`'s HOST and PORT, not the default 127.0.0.1:5000.
    assert world.banner_url and all(s["url"].startswith(world.banner_url + "/01/") for s in samples), out


def check_labels_print(name: str) -> Callable[[str, Checkout], None]:
    def check(out: str, world: Checkout) -> None:
        assert f"100 labels written to {name}" in out
        written = (world.root / name).read_bytes()
        # The CSV starts with a byte-order mark, for spreadsheet programs.
        assert written.startswith(b"%PDF-" if name.endswith(".pdf") else "\ufeffurl,".encode())

    return check


# What a command must print (on stdout) besides ending with status 0.
CHECKS: dict[str, Callable[[str, Checkout], None]] = {
    ".venv/bin/flask --app traceability demo-samples": check_demo_samples,
    ".venv/bin/flask --app traceability demo-accounts":
        lambda out, w: re.search(r"^claim .*: " + re.escape(w.banner_url or "?") + r"/claim/\S+$", out, re.M)
        or pytest.fail(out),
    "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'":
        lambda out, w: len(out.strip()) == 64 or pytest.fail(out),
    ".venv/bin/flask --app traceability print-jobs run --once":
        lambda out, w: re.fullmatch(r"\d+ print job\(s\) run\n", out) or pytest.fail(out),
    ".venv/bin/flask --app traceability labels issue BATCH_ID --level unit --count 100000":
        lambda out, w: re.search(r"^label run \d+: batch \d+ .*indexes \d+–\d+", out, re.M) or pytest.fail(out),
    ".venv/bin/flask --app traceability labels print RUN_ID --preset a4-3x8 --output tem.pdf":
        check_labels_print("tem.pdf"),
    ".venv/bin/flask --app traceability labels print RUN_ID --output tem.csv": check_labels_print("tem.csv"),
    ".venv/bin/flask --app traceability users create --role officer --email … --region 51":
        lambda out, w: "created user #" in out and "can.bo.readme@example.org (officer)" in out or pytest.fail(out),
    ".venv/bin/flask --app traceability diary verify BATCH_ID":
        lambda out, w: re.fullmatch(r"batch \d+ \(lot \S+\): OK, \d+ events\n", out) or pytest.fail(out),
    ".venv/bin/flask --app traceability diary verify --all":
        lambda out, w: len(re.findall(r": OK, \d+ events$", out, re.M)) == 15 or pytest.fail(out),
    ".venv/bin/flask --app traceability notices send-due":
        lambda out, w: re.fullmatch(r"created=\d+ sent=\d+ failed=\d+ retrying=\d+ skipped=\d+\n", out)
        or pytest.fail(out),
    ".venv/bin/python bench/labels.py": lambda out, w: re.search(r"^ratio: \d+\.\d$", out, re.M) or pytest.fail(out),
    ".venv/bin/python bench/labels.py --memory 100000":
        lambda out, w: "peak RSS: rendering process" in out or pytest.fail(out),
    ".venv/bin/python bench/images.py": lambda out, w: len(re.findall(r"  stored \d+ KiB$", out, re.M)) == 3
        or pytest.fail(out),
    ".venv/bin/python bench/imports.py": lambda out, w: len(re.findall(r"  (refused: |[\d,]+ rows read)", out)) == 3
        or pytest.fail(out),
    ".venv/bin/python bench/trace.py":
        lambda out, w: re.search(r"^ratio sqlite: \d+\.\d\d\nratio postgresql: \d+\.\d\d$", out, re.M)
        or pytest.fail(out),
}


def run_command(command: Command, world: Checkout, exports: list[str], env: dict[str, str]) -> None:
    script = substituted("\n".join([*exports, command.text]), world)
    if command.line in SERVERS:
        probe, clean_exit = SERVERS[command.line]
        server = Server(script, world, env)
        try:
            probe(server, world, script)
            served = server.output()  # a request caught by Ctrl-C is gunicorn's to log
        finally:
            status = server.stop()
        assert "Traceback" not in served, served
        assert status == 0 or not clean_exit, f"{command.text}: exit {status} after Ctrl-C\n{server.output()}"
        return
    done = run(script, world, stdin=STDIN.get(command.line), env=env)
    assert done.returncode == 0, (f"README ({command.section}): {command.text}\nexit {done.returncode}\n"
                                  f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}")
    assert "Traceback" not in done.stderr, done.stderr
    if command.line in CHECKS:
        CHECKS[command.line](done.stdout, world)


# ------------------------------------------------------------------ the tests

# The commands make databases of their own (a SQLite file and throwaway PostgreSQL databases)
# whatever database the suite runs on, so a second run on PostgreSQL would repeat the same work.
once_per_ci = pytest.mark.skipif(
    os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="README commands use databases of their own; they run in the SQLite run of .ci/run")


@once_per_ci
def test_the_readme_commands_run_as_written(checkout: Checkout) -> None:
    exports: list[str] = []
    block = -1
    for command in COMMANDS:
        if command.line in EXCLUDED or command in BENCHMARKS:
            continue
        if command.block != block:
            exports, block = [], command.block
        env = {**checkout.env, "PORT": str(free_port())}
        run_command(command, checkout, exports, env)
        if command.line.startswith("export "):
            exports.append(command.text)

    # What a newcomer meets when a command cannot run: one line, no traceback. The production
    # refusal holds with make run's .flaskenv present, as the README promises.
    samples = ".venv/bin/flask --app traceability demo-samples"
    refused = run(samples, checkout, env={**checkout.env, "APP_ENV": "production"})
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.startswith("Error: Missing required setting(s): SECRET_KEY, SERIAL_KEYS.")
    assert refused.stderr.count("\n") == 1, refused.stderr
    missing = checkout.root / "missing.sqlite3"
    no_tables = run(samples, checkout, env={**checkout.env, "DATABASE_URL": f"sqlite:///{missing}"})
    assert no_tables.returncode == 1
    assert no_tables.stderr == (f"Error: the database sqlite:///{missing} cannot be used (no such table:"
                                " products); is it reachable, and migrated"
                                " (`flask --app traceability db upgrade`)?\n")


@once_per_ci
@pytest.mark.parametrize("command", BENCHMARKS, ids=[c.line.removeprefix(".venv/bin/python ") for c in BENCHMARKS])
def test_the_readme_benchmarks_run_short(checkout: Checkout, command: Command) -> None:
    done = run(command.text, checkout, env={**checkout.env, "BENCH_QUICK": "1"})
    assert done.returncode == 0, f"{command.text}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert "BENCH_QUICK:" in done.stdout
    CHECKS[command.line](done.stdout, checkout)


def test_every_table_entry_names_a_readme_command() -> None:
    """The tables above follow the README: an entry for a command it no longer gives fails here."""
    lines = {command.line for command in COMMANDS}
    texts = "\n".join(command.text for command in COMMANDS)
    for name in [*EXCLUDED, *SERVERS, *CHECKS, *STDIN]:
        assert name in lines, f"not a README command any more: {name}"
    for placeholder in PLACEHOLDERS:
        assert placeholder in texts, f"not in any README command any more: {placeholder}"
    # Every kind the test knows is there: the parsing found the blocks.
    assert {"make run", "make test", ".venv/bin/python bench/trace.py"} <= lines
    assert len(BENCHMARKS) == 5
