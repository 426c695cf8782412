"""Uploaded files: :class:`FileStorage`, one file part of a multipart body."""

from __future__ import annotations

import os
import typing as t

__all__ = ["FileStorage"]


class FileStorage:
    """An uploaded file: ``filename``, ``content_type``, ``name`` and ``stream``."""

    __slots__ = ("name", "filename", "content_type", "stream", "size", "headers")

    def __init__(
        self,
        stream: t.BinaryIO,
        filename: str | None,
        name: str,
        content_type: str | None,
        size: int = -1,
        headers: t.Mapping[str, str] | None = None,
    ) -> None:
        self.stream = stream
        self.filename = filename
        self.name = name
        self.content_type = content_type
        self.size = size
        self.headers = headers or {}

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes of the upload (all that is left by default)."""
        return self.stream.read(size)

    def save(
        self, destination: str | os.PathLike[str] | t.BinaryIO, chunk_size: int = 64 * 1024
    ) -> None:
        """Copy the whole upload to a path or to a writable binary file.

        The stream is rewound first, so an upload already partly read is
        saved whole.

        :param destination: a path (``str`` or :class:`os.PathLike`, such as
            :class:`pathlib.Path`), created or truncated, or a binary file
            object opened for writing.
        :param chunk_size: how many bytes are copied at a time.
        """
        self.stream.seek(0)
        if isinstance(destination, str | os.PathLike):
            with open(destination, "wb") as out:
                self._copy(out, chunk_size)
        else:
            self._copy(destination, chunk_size)

    def _copy(self, out: t.BinaryIO, chunk_size: int) -> None:
        while chunk := self.stream.read(chunk_size):
            out.write(chunk)

    def __repr__(self) -> str:
        return f"<FileStorage {self.filename!r} ({self.content_type})>"
