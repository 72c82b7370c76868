"""gunicorn settings shared by `make run` and the Docker image.

The access log keeps what an operator needs (time, method, path, status, size, duration)
and nothing personal: no client address, no user agent, no referrer, no query string, and
the path with its secrets and unit serials cut out (a unit serial ties a scan to one package
in someone's hands; a claim link is a password).

Every worker also runs print jobs in a background thread (traceability/codes/print_jobs.py),
started after the fork, since a thread started in the master would not exist in the workers.
"""
import re

from gunicorn.glogging import Logger

_REDACT = (
    (re.compile(r"/21/[^/]+"), "/21/-"),          # GS1 serial (AI 21) in any Digital Link path
    (re.compile(r"^/(claim|invite)/[^/]+"), r"/\1/-"),  # handover claim and staff invitation secrets
)
# The trace lane and the resolver read the raw request path (RAW_URI) as sent.


def redact_path(path: str) -> str:
    for pattern, replacement in _REDACT:
        path = pattern.sub(replacement, path)
    return path


class PrivateAccessLogger(Logger):
    def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        atoms = super().atoms(resp, req, environ, request_time)
        path = redact_path(atoms.get("U") or "-")
        atoms.update({"U": path, "r": f"{atoms.get('m', '-')} {path}", "q": "-", "h": "-",
                      "a": "-", "f": "-", "u": "-"})
        return atoms


logger_class = PrivateAccessLogger
accesslog = "-"
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


def _print_jobs(worker):  # type: ignore[no-untyped-def]
    app = getattr(worker, "wsgi", None)  # the Flask app, once the worker has loaded it
    return getattr(app, "extensions", {}).get("print_jobs"), app


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    jobs, app = _print_jobs(worker)
    if jobs is not None and app.config["PRINT_JOBS_IN_WEB_WORKERS"]:
        jobs.start()


def worker_exit(server, worker):  # type: ignore[no-untyped-def]
    # A job in progress goes back to the queue now instead of waiting to go stale.
    jobs, _app = _print_jobs(worker)
    if jobs is not None:
        jobs.stop()
