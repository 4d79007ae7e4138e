"""Where a deployed stage's time goes: pick-up, process start, work and return, per site.

The server notes when it pushed a stage's messages and when it pulled each reply
(:class:`StageClock`); every reply says when its ClientApp process started and when the app
began and ended (:mod:`federated.client.timing`). On one host (one clock) they split the
stage, per site, into:

- ``pick-up``: push to process start (the SuperNode's request for messages, which Flower's
  SuperNodes repeat every 3 s when idle; its SuperExec's task polling; the process spawn);
- ``start``: process start to the app's function (Python, Flower and the app imported, the
  message and the app's bundle pulled from the SuperNode);
- ``work``: the app's function (torch imported, the site's data and model, training);
- ``return``: the app's end to the server's pull (the reply pushed to the SuperNode, which
  checks every 0.5 s, then to the SuperLink; the server pulls every 0.2 s).

Across hosts the clocks differ, so only ``work`` and the ``total`` stay meaningful. A reply
whose process started before the stage (in process: one process answers every message) is
given its total only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flwr.app import Message

PARTS = ("pick-up", "start", "work", "return")


@dataclass
class StageClock:
    """When a stage's messages were pushed and each reply pulled (wall clock, seconds)."""

    pushed: float = 0.0
    arrived: dict[str, float] = field(default_factory=dict)


def stage_timing(
    clock: StageClock, replies: list[Message], sites: dict[int, str] | None = None
) -> dict[str, dict[str, float]]:
    """Return, per site that replied, the stage's total and (when stamped) its parts (s).

    Sites are named by their reply's ``site`` record, else by ``sites`` (node id to name).
    """
    timing = {}
    for reply in replies:
        if not reply.has_content():
            continue
        records = reply.content.config_records
        node = reply.metadata.src_node_id
        site = str(records["site"]["name"]) if "site" in records else None
        site = site or (sites or {}).get(node, f"node {node}")
        arrived = clock.arrived.get(reply.metadata.reply_to_message_id, clock.pushed)
        times = {"total": arrived - clock.pushed}
        stamps = records.get("timing")
        if stamps is not None and float(stamps["process-start"]) >= clock.pushed - 1.0:
            times |= {
                "pick-up": float(stamps["process-start"]) - clock.pushed,
                "start": float(stamps["app-start"]) - float(stamps["process-start"]),
                "work": float(stamps["app-end"]) - float(stamps["app-start"]),
                "return": arrived - float(stamps["app-end"]),
            }
        timing[site] = times
    return timing
