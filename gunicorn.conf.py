"""gunicorn settings shared by `make run` and the Docker image.

The access log keeps what an operator needs (time, method, path, status, size, duration)
and nothing personal: no client address, no user agent, no referrer, no query string, and
the path with its secrets and unit serials cut out (a unit serial ties a scan to one package
in someone's hands; a claim link is a password).
"""
import re

from gunicorn.glogging import Logger

_REDACT = (
    (re.compile(r"/21/[^/]+"), "/21/-"),          # GS1 serial (AI 21) in any Digital Link path
    (re.compile(r"^/claim/[^/]+"), "/claim/-"),   # handover claim secrets
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
