"""One line for any error that escapes a command: what failed, where, what to do.

Commands raise CommandError for the mistakes they foresee; this covers the rest
(a database that refuses a write, a missing driver, a file that cannot be read, a
bug), so that no user ever sees a traceback without asking for it with -v.
"""

from __future__ import annotations

import subprocess

from reviewbot.commands.db import EX_TEMPFAIL, CommandError, first_line, last_opened

EXIT_ERROR = 1


def describe(exc: BaseException) -> tuple[str, int]:
    """(message, exit code)."""
    if isinstance(exc, CommandError):
        return str(exc), exc.code
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from reviewbot.adapters.sql.access import is_read_only_error

    where = last_opened() or "the database"
    if isinstance(exc, SQLAlchemyError):
        if is_read_only_error(exc):
            return (f"{where} is read-only: this command writes to it; run it where the "
                    "database is writable, or give another --db"), EXIT_ERROR
        if isinstance(exc, OperationalError) and "locked" in first_line(exc):
            return (f"{where} is locked by another writer (waited 10 s): try again "
                    "shortly"), EX_TEMPFAIL
        return f"database error on {where}: {first_line(exc)}", EXIT_ERROR
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").startswith("psycopg"):
        return ("PostgreSQL needs the psycopg driver: pip install 'reviewbot[postgres]'"
                ), EXIT_ERROR
    if isinstance(exc, subprocess.TimeoutExpired):
        cmd = exc.cmd if isinstance(exc.cmd, str) else " ".join(map(str, exc.cmd[:3]))
        return f"`{cmd}` did not answer within {exc.timeout:.0f} s", EXIT_ERROR
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}", EXIT_ERROR
    if isinstance(exc, OSError | ValueError | RuntimeError | LookupError):
        return first_line(exc), EXIT_ERROR
    return (f"unexpected {type(exc).__name__}: {first_line(exc)} (this is a bug in reviewbot: "
            "run the command again with -v for the traceback and report it)"), EXIT_ERROR
