"""Bounds on calls in progress and on idle streams, kept apart per kind of call.

grpc.aio's own `maximum_concurrent_rpcs` counts every call alike, so clients
that hold conversion streams open could make health checks fail with
RESOURCE_EXHAUSTED and get a healthy server killed by its liveness probe.
The server counts instead: the ResourceService calls against one
`CallLimit`, health Watch and reflection streams against another, and health
Check against none (it is one short unary call, and must always answer).

A stream the peer leaves idle is ended by an `IdleTimer`, so holding streams
open costs an attacker a message per idle timeout instead of nothing.

>>> limit = CallLimit(1, "conversion calls")
>>> limit.enter(), limit.enter()
(True, False)
>>> limit.leave(); limit.in_progress
0
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import grpc

_Request = TypeVar("_Request")
_Response = TypeVar("_Response")


class CallLimit:
    """How many calls of one kind are in progress, refusing more than `limit`.

    Calls run on one event loop, so a plain counter is exact.
    """

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what
        self.in_progress = 0

    def enter(self) -> bool:
        """Count a call in, or return False when `limit` calls are already in progress."""
        if self.in_progress >= self.limit:
            return False
        self.in_progress += 1
        return True

    def leave(self) -> None:
        """Count a call that `enter` let in out again."""
        self.in_progress -= 1

    def refusal(self) -> str:
        """The status message of a refused call."""
        return f"too many {self.what} in progress (this server's limit is {self.limit}); retry later"


class IdleTimer:
    """Cancels the task that made it once `touch()` has not been called for `timeout` seconds.

    Handlers call `touch()` whenever a message moves; the timer checks only
    when its deadline comes (one timer callback per timeout at most, nothing
    per message but a clock read), and `fired` tells the handler why it was
    cancelled. `stop()` it when the call ends.
    """

    def __init__(self, timeout: float) -> None:
        self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - handlers always run in a task
            raise RuntimeError("IdleTimer needs a running task")
        self._task = task
        self._timeout = timeout
        self._last = self._loop.time()
        self._handle = self._loop.call_at(self._last + timeout, self._check)
        self.fired = False

    def touch(self) -> None:
        """A message moved: the stream is not idle."""
        self._last = self._loop.time()

    def stop(self) -> None:
        """The call is over: drop the pending check."""
        self._handle.cancel()

    def _check(self) -> None:
        due = self._last + self._timeout
        if self._loop.time() < due:
            self._handle = self._loop.call_at(due, self._check)
            return
        self.fired = True
        self._task.cancel()

    def refusal(self) -> str:
        """The status message of a stream ended for idleness."""
        return f"the stream was idle for {self._timeout:g} s (this server's idle timeout); open a new one"


def limited_stream(
    behavior: Callable[[_Request, grpc.aio.ServicerContext[_Request, _Response]], Awaitable[None]],
    limit: CallLimit,
) -> Callable[[_Request, grpc.aio.ServicerContext[_Request, _Response]], Coroutine[Any, Any, None]]:
    """A response-streaming handler that writes through its context (health Watch), counted against `limit`.

    Watch streams are long-lived by design (they wait for status changes), so
    they have a bound but no idle timeout.
    """

    async def handler(request: _Request, context: grpc.aio.ServicerContext[_Request, _Response]) -> None:
        if not limit.enter():
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, limit.refusal())
        try:
            await behavior(request, context)
        finally:
            limit.leave()

    return handler


def limited_bidi_stream(
    behavior: Callable[
        [AsyncIterator[_Request], grpc.aio.ServicerContext[_Request, _Response]], AsyncIterable[_Response]
    ],
    limit: CallLimit,
    idle_timeout: float,
) -> Callable[[AsyncIterator[_Request], grpc.aio.ServicerContext[_Request, _Response]], AsyncIterator[_Response]]:
    """A bidirectional streaming handler (reflection) counted against `limit` and ended
    with DEADLINE_EXCEEDED after `idle_timeout` seconds without a message either way."""

    async def handler(
        requests: AsyncIterator[_Request], context: grpc.aio.ServicerContext[_Request, _Response]
    ) -> AsyncIterator[_Response]:
        if not limit.enter():
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, limit.refusal())
        timer = IdleTimer(idle_timeout)

        async def touched() -> AsyncIterator[_Request]:
            async for request in requests:
                timer.touch()
                yield request

        try:
            async for response in behavior(touched(), context):
                timer.touch()
                yield response
        except asyncio.CancelledError:
            if timer.fired:
                await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, timer.refusal())
            raise
        finally:
            timer.stop()
            limit.leave()

    return handler


__all__ = ["CallLimit", "IdleTimer", "limited_bidi_stream", "limited_stream"]
