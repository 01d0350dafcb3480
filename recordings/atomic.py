"""Writing output files atomically: into a temporary file in the same folder, then renamed over
the target, so a reader (or a crash) never sees half a report or export. An output that cannot be
written is refused before the work (`check_writable`), and a write that fails names the user's
file, not the hidden temporary one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def check_writable(path: Path, what: str, folder: bool = False) -> Path:
    """Refuse, before any work, an output that could not be written: ValueError "`path`: `what`
    cannot be written there (why)". `path` is the file to be written (its folder is made if
    missing), or with `folder` the folder to write into (made if missing)."""
    path = Path(path)
    where = path if folder else path.parent
    try:
        if folder and path.exists() and not path.is_dir():
            raise NotADirectoryError(0, "a file, not a folder")
        where.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=where):
            pass
        if not folder and path.exists() and not os.access(path, os.W_OK):
            raise PermissionError(0, "permission denied")
    except OSError as error:
        raise ValueError(f"{path}: {what} cannot be written there ({error.strerror or error})") from None
    return path


def _naming(error: OSError, path: Path, partial: Path) -> OSError:
    """`error` of writing `partial`, said of the user's `path` (others' errors as they are)."""
    if error.filename is not None and os.fspath(error.filename) != os.fspath(partial):
        return error
    return OSError(error.errno, error.strerror or str(error), os.fspath(path))


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write to; when the block ends without error it replaces
    `path` in one rename (`os.replace`), otherwise it is removed and `path` is left as it was. An
    OSError of writing the temporary file names `path`."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        yield partial
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise _naming(error, path, partial) from error
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> Path:
    """`text` as UTF-8 into `path`, atomically."""
    with replacing(path) as partial:
        partial.write_text(text, encoding="utf-8")
    return Path(path)
