"""Bytes in: decompression (.gz, .zst), the first lines for detection, and read_csv guarded.

zstd goes through pyarrow's codec (already a dependency), gzip through pandas/gzip. Every
failure to read (missing, binary, not UTF-8, empty, truncated archive) is a DataError that
names the file.

Inside `chunked_reads(file, rows)` each `read_text` of that file returns its next `rows`
rows instead of all of them (pandas' ``read_csv(chunksize=...)``, which "returns a
TextFileReader object for iteration", pandas' read_csv docs), so a vendor reader needs no
change to be read a chunk at a time; past the last row it raises `EndOfChunks`.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa

from research.engine.formats.base import shorten
from research.errors import DataError

HEAD_BYTES = 64 * 1024  # enough for a header and a few rows of any layout
SEPARATORS = (",", ";", "\t")
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
DBN_MAGIC = b"DBN"
PARQUET_MAGIC = b"PAR1"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
UTF8_BOM = b"\xef\xbb\xbf"


class EndOfChunks(Exception):
    """`read_text` inside `chunked_reads`: the file has no rows left."""


class chunked_reads:
    """Within it, each `read_text(file, ...)` returns the file's next `rows` rows (the
    header read once, each chunk's index from 0); the stream is closed on leaving.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ES.txt"
    >>> _ = path.write_text("a,b\\n1,2\\n3,4\\n5,6\\n")
    >>> with chunked_reads(path, 2):
    ...     first, second = read_text(path), read_text(path)
    >>> first["a"].tolist(), second["a"].tolist(), second.index[0]
    ([1, 3], [5], 0)
    """

    def __init__(self, file: Path, rows: int) -> None:
        self.file, self.rows = file, rows
        self._stream: IO[bytes] | None = None
        self._reader: Any = None
        self._token: Any = None

    def __enter__(self) -> chunked_reads:
        self._token = _CHUNKS.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _CHUNKS.reset(self._token)
        if self._reader is not None:
            self._reader.close()
        if self._stream is not None:
            self._stream.close()

    def next_chunk(self, read_csv: dict[str, Any]) -> pd.DataFrame:
        with guarded(self.file):
            if self._reader is None:
                if encoding_of(read_head(self.file)) == "utf-16":
                    read_csv.setdefault("encoding", "utf-16")
                self._stream = open_bytes(self.file)
                self._reader = pd.read_csv(self._stream, engine="c", chunksize=self.rows,
                                           **read_csv)
            frame = next(self._reader, None)
        if frame is None:
            raise EndOfChunks(str(self.file))
        frame.index = pd.RangeIndex(len(frame))
        return frame


_CHUNKS: ContextVar[chunked_reads | None] = ContextVar("text_chunks", default=None)


def compression_of(file: Path, first_bytes: bytes) -> str | None:
    """'gzip', 'zstd' or None, from the magic bytes (a misnamed archive still opens)."""
    if first_bytes.startswith(GZIP_MAGIC):
        return "gzip"
    if first_bytes.startswith(ZSTD_MAGIC):
        return "zstd"
    return None


def open_bytes(file: Path) -> IO[bytes]:
    """The file's decompressed bytes as a stream; a DataError if it cannot be opened."""
    try:
        with open(file, "rb") as raw:
            magic = raw.read(4)
        kind = compression_of(file, magic)
        if kind == "gzip":
            return gzip.open(file, "rb")
        if kind == "zstd":
            return pa.CompressedInputStream(pa.OSFile(str(file)), "zstd")
        return open(file, "rb")
    except OSError as exc:
        raise DataError(f"{file}: cannot read: {exc.strerror or exc}") from None


def read_head(file: Path) -> bytes:
    """The first HEAD_BYTES decompressed bytes (fewer for a short file)."""
    with guarded(file), open_bytes(file) as stream:
        return stream.read(HEAD_BYTES)


def encoding_of(head: bytes) -> str:
    """'utf-16' (a UTF-16 byte-order mark: Excel's "Unicode text"), 'utf-8-sig' (a UTF-8
    byte-order mark) or 'utf-8', from a text file's first bytes.

    >>> encoding_of("timestamp".encode("utf-16")), encoding_of("timestamp".encode("utf-8-sig"))
    ('utf-16', 'utf-8-sig')
    """
    if head.startswith(UTF16_BOMS):
        return "utf-16"
    return "utf-8-sig" if head.startswith(UTF8_BOM) else "utf-8"


def head_lines(file: Path, head: bytes) -> list[str]:
    """The head's complete lines as text (UTF-16 with a byte-order mark decoded); binary or
    non-UTF-8 data is a DataError."""
    if encoding_of(head) == "utf-16":
        text = head[: len(head) // 2 * 2].decode("utf-16", errors="ignore")
        return _lines(text, len(head) == HEAD_BYTES)
    if not head.strip():
        raise DataError(f"{file}: is empty (no bars; expected a header or a first row)")
    if b"\x00" in head:
        if _looks_utf16(head):
            raise DataError(f"{file}: looks like UTF-16 text without a byte-order mark "
                            "(every other byte is 0); save it as UTF-8 (Excel: CSV UTF-8), or"
                            " as UTF-16 with its byte-order mark (Excel: Unicode text)")
        raise DataError(f"{file}: is binary, not text bars (a NUL byte at {head.index(0)}); "
                        "bars are .parquet, .dbn or delimited text (.csv, .txt, .gz, .zst)")
    return _lines(_decode(file, head), len(head) == HEAD_BYTES)


def _looks_utf16(head: bytes) -> bool:
    sample = head[:200]
    return len(sample) >= 8 and (sample[1::2].count(0) == len(sample[1::2])
                                 or sample[0::2].count(0) == len(sample[0::2]))


def _lines(text: str, full_head: bool) -> list[str]:
    lines = [line.rstrip("\r") for line in text.split("\n")]
    if full_head and len(lines) > 1:
        lines = lines[:-1]  # the last one may be cut mid-line
    return [line for line in lines if line.strip()]


def _decode(file: Path, head: bytes) -> str:
    text = head.decode("utf-8-sig", errors="ignore") if _is_utf8(head) else None
    if text is None:
        bad = _first_bad_byte(head)
        raise DataError(f"{file}: is not UTF-8 text (byte {bad} of the decompressed data); "
                        "save the export as UTF-8 (or plain ASCII)")
    return text


def _is_utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # a character cut at the HEAD_BYTES boundary is not an encoding error
        return len(head) == HEAD_BYTES and exc.start >= len(head) - 3
    return True


def _first_bad_byte(head: bytes) -> int:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return 0


def separator_of(line: str) -> str:
    """The most frequent of `,` `;` tab in a line (`,` when none is there).

    >>> separator_of("20241202 093100;6045.25;6046;6045;6045.75;812")
    ';'
    """
    counts = {sep: line.count(sep) for sep in SEPARATORS}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def split_fields(line: str, sep: str) -> list[str]:
    return [field.strip().strip('"') for field in line.split(sep)]


def read_text(file: Path, **read_csv: Any) -> pd.DataFrame:
    """pd.read_csv over the decompressed stream (UTF-16 decoded when a byte-order mark says
    so; pandas drops a UTF-8 one itself); failures become DataErrors naming the file.
    Inside `chunked_reads(file, ...)`: the file's next chunk of rows."""
    cursor = _CHUNKS.get()
    if cursor is not None and cursor.file == file:
        return cursor.next_chunk(read_csv)
    if encoding_of(read_head(file)) == "utf-16":
        read_csv.setdefault("encoding", "utf-16")
    with guarded(file), open_bytes(file) as stream:
        return pd.read_csv(stream, engine="c", **read_csv)


def last_line_cut(file: Path) -> bool:
    """Whether an uncompressed text file's last line lacks its line ending (the file may be
    cut inside its last bar); compressed files are not checked (their end is not at hand).

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ES.txt"
    >>> _ = path.write_bytes(b"a,b\\n1,2")
    >>> last_line_cut(path)
    True
    """
    try:
        with open(file, "rb") as raw:
            if compression_of(file, raw.read(4)) is not None:
                return False
            raw.seek(0, 2)
            size = raw.tell()
            if size < 2:
                return False
            raw.seek(size - 2)
            tail = raw.read(2)
    except OSError:
        return False
    return tail not in (b"\n\x00",) and not tail.endswith(b"\n")


class guarded:
    """Turns what pandas, gzip and pyarrow raise on unreadable input into one DataError."""

    def __init__(self, file: Path, what: str = "cannot read") -> None:
        self.file, self.what = file, what

    def __enter__(self) -> guarded:
        return self

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: object) -> bool:
        if exc is None or isinstance(exc, DataError):
            return False
        if isinstance(exc, pd.errors.EmptyDataError):
            raise DataError(f"{self.file}: is empty (no bars; expected a header or a first "
                            "row)") from None
        if isinstance(exc, EOFError) or "truncated" in str(exc).lower() \
                or "end-of-stream" in str(exc).lower():
            raise DataError(f"{self.file}: is a truncated archive (the compressed data ends "
                            "early); download or copy it again") from None
        if isinstance(exc, UnicodeDecodeError):
            raise DataError(f"{self.file}: is not UTF-8 text (byte {exc.start}); save the "
                            "export as UTF-8") from None
        if isinstance(exc, (OSError, ValueError, pa.ArrowException, gzip.BadGzipFile)):
            detail = getattr(exc, "strerror", None) or str(exc).splitlines()[0] if str(exc) \
                else type(exc).__name__
            raise DataError(f"{self.file}: {self.what}: {shorten(detail, 160).strip(chr(39))}") \
                from None
        return False


def call_guarded(file: Path, fn: Callable[[], Any], what: str = "cannot read") -> Any:
    with guarded(file, what):
        return fn()
