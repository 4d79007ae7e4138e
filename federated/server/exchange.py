"""Send a stage's messages and collect the replies, polling the SuperLink often.

Flower's deployed grid waits 3 s between two pulls of replies, so every stage of a round
(training, evaluation, the final models) ended up to 3 s after its last reply arrived. The
server pushes through the grid and pulls every ``poll_s`` seconds instead (a pull is one small
request on the SuperLink's API); what stays is the SuperNodes' own wait between two requests
for messages, which is Flower's.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .timing import StageClock

if TYPE_CHECKING:
    from flwr.app import Message
    from flwr.serverapp import Grid

POLL_S = 0.2
"""Seconds between two pulls of replies."""


def send_and_receive(
    grid: Grid,
    messages: Iterable[Message],
    timeout: float,
    poll_s: float = POLL_S,
    clock: StageClock | None = None,
) -> list[Message]:
    """Push ``messages``; return the replies that arrive within ``timeout`` seconds.

    Parameters
    ----------
    grid : Grid
        The run's grid (a SuperLink's, or an in-process one).
    messages : iterable of Message
        The stage's messages, one per node.
    timeout : float
        Seconds to wait for the replies; nodes that have not replied by then are left out.
    poll_s : float
        Seconds between two pulls.
    clock : StageClock, optional
        Receives when the messages were pushed and each reply pulled (wall clock).

    A grid whose replies exist as soon as its messages are pushed (``replies_ready``, as
    :class:`~federated.inprocess.InProcessGrid`) is asked once: a node without a reply then
    has none to come.
    """
    clock = clock if clock is not None else StageClock()
    clock.pushed = time.time()
    if getattr(grid, "replies_ready", False):
        replies = list(grid.send_and_receive(messages, timeout=timeout))
        clock.arrived.update({m.metadata.reply_to_message_id: time.time() for m in replies})
        return replies
    waiting = set(grid.push_messages(messages))
    deadline = time.monotonic() + timeout
    replies: list[Message] = []
    while waiting:
        pulled = list(grid.pull_messages(waiting))
        clock.arrived.update({m.metadata.reply_to_message_id: time.time() for m in pulled})
        replies += pulled
        waiting -= {message.metadata.reply_to_message_id for message in pulled}
        if not waiting or time.monotonic() >= deadline:
            break
        time.sleep(min(poll_s, max(0.0, deadline - time.monotonic())))
    return replies
