"""Connect a fresh mock to its state file: load what the file holds, or lay a new one out.

After a restart, mock time goes on from where it stood: the clock is set to the moment
last saved (exactly, after a clean stop). After a crash it is set a little later, by the
real time that passed since that commit (at most ``2 * FLUSH_SECONDS``, times the rate):
the time the mock may have run unsaved, so no status a client saw before the crash goes
back. Jobs that were QUEUED or PROCESSING go on along their schedule from there.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from mock_gateway.persistence.batch import Codec
from mock_gateway.persistence.changes import JOB_SECTIONS, ChangeTracker
from mock_gateway.persistence.keeper import FLUSH_SECONDS, StateKeeper
from mock_gateway.persistence.options import StateFileError
from mock_gateway.persistence.store import Saved, StateStore

if TYPE_CHECKING:
    from mock_gateway.web.state import MockState


def codec_module() -> Codec:
    from mock_gateway.persistence import codec

    return codec


def section_names(state: MockState, codec: Codec) -> tuple[str, ...]:
    """The codec's sections besides the jobs, in its order (asked of the fresh state)."""
    return tuple(name for name in codec.snapshot(state) if name not in JOB_SECTIONS)


def restore_saved(state: MockState, saved_data: Any, codec: Codec, where: str) -> None:
    """``codec.restore``, its refusal turned into the one-line start-up refusal."""
    from mock_gateway.persistence.codec import SnapshotRefused

    try:
        codec.restore(state, saved_data)
    except SnapshotRefused as exc:
        raise StateFileError(f"{where}: the saved state is refused: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:  # the codec checks; this is a backstop
        raise StateFileError(f"{where}: the saved state is refused: {exc!r}") from None


def _catch_up(state: MockState, saved: Saved) -> None:
    if saved.clean or saved.saved_wall is None or state.clock.rate == 0.0:
        return
    unsaved = min(max(0.0, time.time() - saved.saved_wall), 2 * FLUSH_SECONDS)
    state.clock.advance(unsaved * state.clock.rate)


def attach(state: MockState, store: StateStore) -> StateKeeper:
    """Load ``store`` into ``state`` (or save ``state`` as the file's first content) and
    make every later change durable through the returned keeper."""
    codec = codec_module()
    tracker = ChangeTracker(state, codec, section_names(state, codec))
    saved = store.saved()
    if saved is None:
        store.write(tracker.collect(full=True), codec.FORMAT)
    else:
        restore_saved(state, saved.data, codec, f"state file {store.path}")
        _catch_up(state, saved)
        tracker.adopt(saved.seqs)
    keeper = StateKeeper(store, tracker, codec.FORMAT)
    state.durability = keeper
    return keeper


def replace_file(state: MockState, store: StateStore, data: Any) -> int:
    """``state import``: load ``data`` (a snapshot) into ``state`` and make it the file's
    whole content; returns how many jobs it holds."""
    codec = codec_module()
    tracker = ChangeTracker(state, codec, section_names(state, codec))
    restore_saved(state, data, codec, "snapshot")
    tracker.clean = True
    store.write(tracker.collect(full=True), codec.FORMAT)
    return len(state.core.queue)
