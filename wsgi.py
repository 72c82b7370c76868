"""The WSGI entry point for gunicorn: `gunicorn wsgi:app`."""
import gc

from traceability import create_app

app = create_app()

# The objects made at start-up (modules, models, the app) live as long as the process.
# Moved out of the collector's reach, a full collection no longer walks ~150,000 of them:
# it took 100 ms, a pause that every request queued behind it paid.
gc.freeze()
