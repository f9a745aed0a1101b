"""Admission and time limits of the synthesis routes, as API errors and responses.

A synthesis request takes a slot from the service's admission control or gets
429 at once. A complete file is made under the time limit (504 when it runs
past it). A stream holds its slot until its last byte, its client leaving,
the time limit or shutdown, whichever comes first: ``AdmittedStream`` frees
it in every case.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from api.admission import ServerBusyError, Slot
from api.errors import APIError, error_response
from api.scheduler import Pacing
from api.speech import SpeechService

logger = logging.getLogger(__name__)


def admit(service: SpeechService, pacing: Pacing | None = None) -> Slot:
    """A request slot for a request paced by ``pacing`` (a complete file's by
    default), or the 429 (with ``Retry-After``) saying the server is full."""
    try:
        return service.admission.admit(pacing)
    except ServerBusyError as e:
        raise APIError(
            429,
            e.message,
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


CLIENT_CLOSED_REQUEST = 499
"""The status a request gets when its client left before the answer (nginx's 499);
no client ever reads it, the logs and ``/metrics`` do."""


def client_gone_error() -> APIError:
    return APIError(
        CLIENT_CLOSED_REQUEST,
        "The client closed the connection before the response was ready; the work stopped.",
        code="client_closed_request",
    )


@asynccontextmanager
async def stop_on_disconnect(request: Request) -> AsyncIterator[None]:
    """Cancel the block when the client disconnects, and raise the 499 error.

    The body has been read by then, so the next ASGI message can only be the
    disconnect (uvicorn sends it when the socket closes)."""
    with anyio.CancelScope() as scope:

        async def watch() -> None:
            while (await request.receive())["type"] != "http.disconnect":
                pass
            scope.cancel()

        watcher = asyncio.create_task(watch())
        try:
            yield
        finally:
            watcher.cancel()
    if scope.cancelled_caught:
        raise client_gone_error()


@asynccontextmanager
async def admitted(
    service: SpeechService,
    timeout_s: float,
    what: str,
    request: Request,
    pacing: Pacing | None = None,
) -> AsyncIterator[None]:
    """Hold a request slot around a complete response (paced by ``pacing``, which
    its chunks must then be run with); stop it at the time limit (0: none; HTTP
    504) or when its client disconnects."""
    slot = admit(service, pacing)
    try:
        with anyio.fail_after(timeout_s or math.inf):
            async with stop_on_disconnect(request):
                yield
    except TimeoutError as e:
        logger.warning("%s stopped at the time limit of %g s", what, timeout_s)
        raise timeout_error(timeout_s) from e
    except APIError as e:
        if e.status_code == CLIENT_CLOSED_REQUEST:
            logger.info("%s stopped: its client disconnected", what)
        raise
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
        content: AsyncIterator[bytes | str],
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
                try:
                    await super().__call__(scope, receive, watched_send)
                except APIError as e:
                    if started:
                        raise
                    # Refused before its first byte (nothing to speak): the client
                    # gets the error itself rather than a 200 with an empty body.
                    await error_response(e)(scope, receive, send)
                    return
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
                await close_iterator(self.body_iterator)
            self.slot.release()


async def close_iterator(iterator: Any) -> None:
    """Close an async iterator now if it can be closed (an async generator)."""
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()
