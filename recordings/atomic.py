"""Writing output files atomically: into a temporary file in the same folder, then renamed over
the target, so a reader (or a crash) never sees half a report or export. An output that cannot be
written is refused before the work (`check_writable`), and a write that fails names the user's
file, not the hidden temporary one."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from recordings.disk_room import DiskFullError


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


def _naming(error: OSError, path: Path, partial: Path, written_bytes: int = 0) -> OSError:
    """`error` of writing `partial`, said of the user's `path` (others' errors as they are); a
    full disk with the `written_bytes` of the output by then."""
    if error.filename is not None and os.fspath(error.filename) != os.fspath(partial):
        return error
    if error.errno == errno.ENOSPC:
        return DiskFullError(os.fspath(path), written_bytes)
    return OSError(error.errno, error.strerror or str(error), os.fspath(path))


class Batch:
    """Files written as one (`together`): each into a temporary file beside it, all renamed in
    place by `commit` in the order written; `discard` removes the temporary files and the folders
    made for them, leaving every existing file as it was."""

    def __init__(self) -> None:
        self._written: list[tuple[Path, Path]] = []  # (temporary file, target)
        self._made: list[Path] = []

    def folder(self, path: Path) -> Path:
        """`path` made, parents too; the ones made here go again on `discard`."""
        path = Path(path)
        self._made += [p for p in (path, *path.parents) if not p.exists()]
        path.mkdir(parents=True, exist_ok=True)
        return path

    @contextmanager
    def replacing(self, path: Path) -> Iterator[Path]:
        """A temporary path beside `path` to write to, put in place on `commit`; removed when the
        block fails. An OSError of writing it names `path`."""
        path = Path(path)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            yield partial
        except OSError as error:
            said = _naming(error, path, partial, self._bytes_written(partial))
            partial.unlink(missing_ok=True)
            raise said from error
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        self._written.append((partial, path))

    def _bytes_written(self, partial: Path) -> int:
        """Disk space (bytes) the batch's temporary files take so far, `partial` too."""
        files = [p for p, _ in self._written] + [partial]
        return sum(p.stat().st_blocks * 512 for p in files if p.exists())

    def write_text(self, path: Path, text: str) -> Path:
        """`text` as UTF-8 into `path`, on `commit`."""
        with self.replacing(path) as partial:
            partial.write_text(text, encoding="utf-8")
        return Path(path)

    def commit(self) -> None:
        for partial, path in self._written:
            try:
                os.replace(partial, path)
            except OSError as error:
                raise _naming(error, path, partial) from error
        self._written = []

    def discard(self) -> None:
        for partial, _ in self._written:
            partial.unlink(missing_ok=True)
        self._written = []
        for folder in sorted(self._made, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):  # only when empty: what others put there stays
                folder.rmdir()


@contextmanager
def together() -> Iterator[Batch]:
    """A `Batch` whose files are put in place when the block ends without error, and none of
    them (nor the folders made for them) otherwise: an output of several files is whole or absent."""
    batch = Batch()
    try:
        yield batch
        batch.commit()
    except BaseException:
        batch.discard()
        raise


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write to; when the block ends without error it replaces
    `path` in one rename (`os.replace`), otherwise it is removed and `path` is left as it was. An
    OSError of writing the temporary file names `path`."""
    with together() as batch, batch.replacing(path) as partial:
        yield partial


def write_text(path: Path, text: str) -> Path:
    """`text` as UTF-8 into `path`, atomically."""
    with replacing(path) as partial:
        partial.write_text(text, encoding="utf-8")
    return Path(path)
