"""Finding LSL streams by name, type or source id."""

from __future__ import annotations

import difflib
from dataclasses import replace
from typing import TYPE_CHECKING

from .streaminfo import StreamDescription, describe

if TYPE_CHECKING:
    import pylsl

_TWIN_WAIT = 0.75  # seconds: longer than the interval between two LSL query waves (0.5 s)


def find_streams(
    *,
    name: str | None = None,
    stype: str | None = None,
    source_id: str | None = None,
    timeout: float = 1.0,
    full: bool = False,
    minimum: int = 0,
) -> list[StreamDescription]:
    """Return the visible LSL streams matching every criterion given.

    Parameters
    ----------
    name, stype, source_id : str, optional
        Exact stream name, type and source id to match; None matches any.
    timeout : float
        Seconds to wait for answers on the network.
    full : bool
        When True, open each stream briefly to read its full header (channel names, types and
        units live there; a resolved stream carries only the short header).
    minimum : int
        Return as soon as this many streams answered (0: wait the whole timeout).

    Returns
    -------
    streams : list of StreamDescription
        Sorted by name then source id. Streams that vanish while their full header is read
        are left out.
    """
    import pylsl

    criteria = {"name": name, "type": stype, "source_id": source_id}
    clauses = [f"{key}='{_escape(value)}'" for key, value in criteria.items() if value is not None]
    if clauses:
        found = pylsl.resolve_bypred(" and ".join(clauses), minimum, timeout)
    elif minimum:
        found = pylsl.resolve_bypred("true()", minimum, timeout)
    else:
        found = pylsl.resolve_streams(timeout)
    streams = []
    for info in found:
        if full:
            full_info = full_header(info, timeout=max(timeout, 1.0))
            if full_info is None:
                continue
            # Described from the full header, opened later through the resolved handle
            # (a header obtained through an inlet does not carry usable addresses).
            streams.append(replace(describe(full_info), info=info))
        else:
            streams.append(describe(info))
    return sorted(streams, key=lambda s: (s.name, s.source_id, s.uid))


def find_stream(
    *,
    name: str | None = None,
    stype: str | None = None,
    source_id: str | None = None,
    timeout: float = 2.0,
) -> StreamDescription:
    """Return the one stream matching the criteria, with its full header.

    Looking up by source id (unique by design) answers as soon as the stream does; by name
    or type only, the lookup waits about 0.75 s more for a second stream of that name or type.

    Raises
    ------
    LookupError
        When no stream or more than one stream matches, naming the criteria and candidates.
    """
    wanted = {"name": name, "type": stype, "source_id": source_id}
    asked = ", ".join(f"{k}={v!r}" for k, v in wanted.items() if v is not None) or "any"
    found = find_streams(name=name, stype=stype, source_id=source_id, timeout=timeout, minimum=1)
    if not found:
        raise LookupError(f"no LSL stream with {asked} found within {timeout:g} s")
    if source_id is None:
        # The first answer ends the wait above; other outlets answer LSL's next query wave.
        twins = find_streams(name=name, stype=stype, timeout=_TWIN_WAIT, minimum=2)
        found = list({s.uid: s for s in [*found, *twins]}.values())
    if len({s.uid for s in found}) > 1:
        listing = ", ".join(s.label for s in found)
        raise LookupError(f"{len(found)} LSL streams match {asked}: {listing}; be more specific")
    info = full_header(found[0].info, timeout=timeout)
    if info is None:
        raise LookupError(f"LSL stream {found[0].label} disappeared while being opened")
    return replace(describe(info), info=found[0].info)


def visible_streams_hint(name: str, *, timeout: float = 1.0) -> str:
    """Return a sentence listing the visible streams and the one nearest to ``name``.

    Meant to follow "no stream named ``name``": waits ``timeout`` seconds for answers, and
    returns "" when a stream of that name is visible after all.
    """
    found = find_streams(timeout=timeout)
    if any(stream.name == name for stream in found):
        return ""
    if not found:
        return "; no LSL stream is visible on this host (is the amplifier or player running?)"
    shown = ", ".join(
        f"'{s.name}' ({s.stype}, {s.n_channels} ch"
        + (f" @ {s.sfreq:g} Hz)" if s.regular else ", irregular)")
        for s in found[:12]
    )
    more = f" and {len(found) - 12} more" if len(found) > 12 else ""
    nearest = difflib.get_close_matches(name, [s.name for s in found], n=1, cutoff=0.6)
    suggestion = f"; did you mean '{nearest[0]}'?" if nearest else ""
    return f"; visible streams: {shown}{more}{suggestion}"


def full_header(info: pylsl.StreamInfo, *, timeout: float) -> pylsl.StreamInfo | None:
    """Return the full stream info (with ``desc``) of a resolved stream, or None if it is gone."""
    import pylsl

    inlet = pylsl.StreamInlet(info, max_buflen=1, recover=False)
    try:
        return inlet.info(timeout)
    except (pylsl.util.TimeoutError, pylsl.util.LostError):
        return None
    finally:
        del inlet


def _escape(value: str) -> str:
    """Escape a value for an XPath predicate in single quotes."""
    if "'" in value:
        raise ValueError(
            f"stream names, types and source ids with quotes are not supported: {value}"
        )
    return value
