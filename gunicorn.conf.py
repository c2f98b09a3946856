"""gunicorn settings for ccmtracker (read automatically from the working directory).

Workers: sync workers, (2 x cores) + 1 by default, gunicorn's own rule of thumb for a
CPU-and-database-bound app; set WEB_CONCURRENCY to override (gunicorn reads it itself).
Each worker is one process with its own database connection; with SQLite every worker
writes through WAL and IMMEDIATE transactions, so more workers do not corrupt anything,
they only queue for the write lock.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8100")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 30
graceful_timeout = 30
# Recycle workers now and then so a slow leak can never grow without bound; not so often
# that a busy server restarts a worker every few seconds (at 2,000 cached pages a second,
# 2,000 requests per worker was one restart a second, each ~0.3 s of a cold worker).
max_requests = 20000
max_requests_jitter = 2000
# A TLS proxy on this machine may say the request came over HTTPS (X-Forwarded-Proto);
# behind a load balancer elsewhere set FORWARDED_ALLOW_IPS to its address(es).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs: one JSON object per line on stdout, like the app's own logs.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
        }
    },
    "root": {"handlers": ["stdout"], "level": "INFO"},
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
    },
}

# gunicorn names itself in a Server header on every response and has no setting to stop it
# (27.0). What software serves the site is of use to nobody but an attacker picking exploits:
# drop the header here, where this file is read by the master before any worker starts.
from gunicorn.http.wsgi import Response  # noqa: E402

_default_headers = Response.default_headers


def _headers_without_server(response):
    return [line for line in _default_headers(response) if not line.startswith("Server:")]


Response.default_headers = _headers_without_server
