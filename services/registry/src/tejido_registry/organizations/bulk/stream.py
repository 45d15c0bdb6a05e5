"""The plumbing between a streamed request body and the importer thread: bytes arrive on the event
loop, lines are decoded and split in the importer's thread, and whatever ends the body part-way (bytes
that are not UTF-8, a body over the limit, a client that goes away) reaches the importer as
:class:`StopImport`, so it can commit the rows it already has and say exactly where it stopped."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import queue
import re
from collections.abc import Callable, Iterator
from typing import TypeVar

from fastapi import Request

# Lines end with CRLF, LF or a lone CR (old Mac / Excel "CSV (Macintosh)"); never with the other
# Unicode line breaks str.splitlines knows, which are ordinary characters inside a cell.
_EOL = re.compile(r"\r\n|\r|\n")
_END = object()
T = TypeVar("T")


class StopImport(Exception):
    """The input ends part-way; ``status`` is the HTTP status the client gets."""

    def __init__(self, reason: str, status: int):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def _split(text: str, final: bool) -> tuple[list[str], str]:
    """Complete lines (with their ending) and the unfinished rest. A CR at the very end may be the
    first half of a CRLF: it waits for the next chunk."""
    lines, start = [], 0
    for match in _EOL.finditer(text):
        if not final and match.end() == len(text) and match.group() == "\r":
            break
        lines.append(text[start : match.end()])
        start = match.end()
    return lines, text[start:]


def decoded_lines(chunks: Callable[[], object]) -> Iterator[str]:
    """Text lines from the byte chunks ``chunks()`` hands over until ``_END`` (or a StopImport).
    Bytes that are not UTF-8 end the input after the lines before them."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending, offset = "", 0
    while True:
        chunk = chunks()
        if isinstance(chunk, StopImport):
            raise chunk
        final = chunk is _END
        data = b"" if final else chunk
        assert isinstance(data, bytes)
        buffered = decoder.getstate()[0]
        try:
            text = pending + decoder.decode(data, final=final)
        except UnicodeDecodeError as exc:
            valid = (buffered + data)[: exc.start]
            with contextlib.suppress(UnicodeDecodeError):
                lines, _ = _split(pending + valid.decode("utf-8-sig" if offset == 0 else "utf-8"), False)
                yield from lines
            at = offset - len(buffered) + exc.start
            raise StopImport(f"the file is not UTF-8 text (invalid byte at offset {at})", 400) from exc
        offset += len(data)
        lines, pending = _split(text, final)
        yield from lines
        if final:
            if pending:
                yield pending
            return


async def feed_importer(request: Request, run: Callable[[Iterator[str]], T], max_bytes: int) -> T:
    """Run ``run(lines)`` in a thread while the request body streams in (bounded queue: a fast
    client cannot fill the memory); returns what ``run`` returns."""
    chunks: queue.Queue[object] = queue.Queue(maxsize=16)
    worker = asyncio.ensure_future(asyncio.to_thread(run, decoded_lines(chunks.get)))

    async def hand_over(item: object) -> bool:
        """False once the importer has stopped (e.g. a bad header)."""
        while not worker.done():
            try:
                chunks.put_nowait(item)
                return True
            except queue.Full:
                await asyncio.sleep(0.005)
        return False

    received = 0
    try:
        async for chunk in request.stream():
            if not chunk:
                continue
            received += len(chunk)
            if received > max_bytes:
                # The rows within the limit are imported; the importer reports where it stopped.
                await hand_over(chunk[: max_bytes - (received - len(chunk))])
                await hand_over(StopImport(f"the body is larger than the limit of {max_bytes} bytes", 413))
                break
            if not await hand_over(chunk):
                break
        else:
            await hand_over(_END)
    except BaseException:
        # The client went away (or the server is stopping): the importer commits what it has and
        # records why it stopped.
        with contextlib.suppress(queue.Empty):
            while True:
                chunks.get_nowait()
        chunks.put_nowait(StopImport("the client disconnected before the end of the file", 400))
        with contextlib.suppress(BaseException):
            await worker
        raise
    return await worker
