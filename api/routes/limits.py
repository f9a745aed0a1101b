"""Admission and time limits of the synthesis routes, as API errors and responses.

A synthesis request takes a slot from the service's admission control or gets
429 at once. A complete file is made under the time limit (504 when it runs
past it). A stream holds its slot until its last byte, its client leaving,
the time limit or shutdown, whichever comes first: ``AdmittedStream`` frees
it in every case.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from api.admission import ServerBusyError, Slot
from api.errors import APIError, error_response
from api.speech import SpeechService

logger = logging.getLogger(__name__)


def admit(service: SpeechService) -> Slot:
    """A request slot, or the 429 (with ``Retry-After``) saying the server is full."""
    try:
        return service.admission.admit()
    except ServerBusyError as e:
        raise APIError(
            429,
            f"The server is busy: all {e.limit} request slots are in use. "
            f"Retry after {e.retry_after_s} s.",
            code="server_overloaded",
            error_type="rate_limit_error",
            headers={"Retry-After": str(e.retry_after_s)},
        ) from e


def timeout_error(seconds: float) -> APIError:
    return APIError(
        504,
        f"The request ran past the server's time limit of {seconds:g} s and was stopped; "
        "send a shorter input.",
        code="request_timeout",
    )


@asynccontextmanager
async def admitted(service: SpeechService, timeout_s: float, what: str) -> AsyncIterator[None]:
    """Hold a request slot and apply the time limit (0: none) around a complete response."""
    slot = admit(service)
    try:
        with anyio.fail_after(timeout_s or math.inf):
            yield
    except TimeoutError as e:
        logger.warning("%s stopped at the time limit of %g s", what, timeout_s)
        raise timeout_error(timeout_s) from e
    finally:
        slot.release()


class AdmittedStream(StreamingResponse):
    """A streamed response that holds a request slot until it ends, however it ends.

    At the time limit the stream stops: before the first audio the client gets
    the 504 error; after it the connection is closed without the final chunk,
    so the client sees an incomplete response rather than a short one.
    """

    def __init__(
        self,
        content: AsyncIterator[bytes] | AsyncIterator[str],
        *,
        slot: Slot,
        timeout_s: float,
        media_type: str,
        headers: Mapping[str, str],
    ) -> None:
        super().__init__(content, media_type=media_type, headers=headers)
        self.slot = slot
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The status line waits for the first body bytes, so that a request
        # with no audio by the time limit can still get its 504.
        held_start: Message | None = None
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal held_start, started
            if message["type"] == "http.response.start":
                held_start = message
                return
            if held_start is not None:
                started = True
                await send(held_start)
                held_start = None
            await send(message)

        try:
            with anyio.move_on_after(self.timeout_s or math.inf) as deadline:
                await super().__call__(scope, receive, watched_send)
            if deadline.cancelled_caught:
                logger.warning(
                    "stream of %s stopped at the time limit of %g s", scope["path"], self.timeout_s
                )
                if not started:
                    await error_response(timeout_error(self.timeout_s))(scope, receive, send)
        finally:
            # However the stream ended, stop its producer now (not when the
            # garbage collector finds the generator) and free the slot.
            with anyio.CancelScope(shield=True):
                await _close(self.body_iterator)
            self.slot.release()


async def _close(iterator: Any) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()
