"""Code that was never called is gone, not kept "just in case" (issue 18).

``SystemClock`` (the one clock is ``VirtualClock``; rate 1 is real time), ``Settings.host`` /
``.port`` (the bind address is the ``serve`` command's ``--host``/``--port``, never a config
key) and ``Settings.raw``. ``MockController.remove_fault`` and ``.forbid`` stayed as public
API: tests/test_controller.py. ``Rejection.body()`` is live again: the proxy answers a
rejected request locally with it."""

from __future__ import annotations

import dataclasses

from mock_gateway.config.schema import check_config
from mock_gateway.config.settings import Settings
from mock_gateway.steering import clock


def test_the_dead_names_stay_gone() -> None:
    assert not hasattr(clock, "SystemClock")
    fields = {field.name for field in dataclasses.fields(Settings)}
    assert fields.isdisjoint({"host", "port", "raw"})


def test_a_config_file_cannot_set_the_bind_address() -> None:
    """The serve command decides where to listen; a config key for it is refused."""
    assert check_config({"host": "0.0.0.0"}) is not None
    assert check_config({"port": 8000}) is not None
