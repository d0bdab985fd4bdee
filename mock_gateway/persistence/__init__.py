"""Persistent state (``mock-gateway serve --state FILE``): the mock survives restarts.

- ``store``: the SQLite file (WAL, one writer, an exclusive lock), its checks and refusals;
- ``schema``: the file's layout, version and migrations;
- ``changes``: what changed since the last commit, as rows (jobs) and sections, in one
  ``batch``;
- ``keeper``: group commits off the event loop; ``MockState.durability``;
- ``attach``: loading a file into a fresh mock, or laying a new one out;
- ``codec`` (with ``codec_*``): the whole mock state <-> JSON-able data (also
  ``/_mock/snapshot``, ``/_mock/restore``).

Without ``--state`` none of this is imported and the mock runs in memory as before.
"""
