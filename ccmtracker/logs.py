import logging


class NoTracebackForClientErrors(logging.Filter):
    """A refused request (403, 400, a disallowed Host...) or an unreachable database (503) is
    logged as its one line: the traceback says nothing about a bug, and an attacker or an
    outage would otherwise flood the logs with them."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if record.exc_info and status is not None and (400 <= status < 500 or status == 503):
            error = record.exc_info[1]
            if error is not None:
                record.error = f"{type(error).__name__}: {error}"
            record.exc_info = None
            record.exc_text = None
        return True
