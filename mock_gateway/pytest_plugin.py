"""pytest plugin (entry point ``pytest11``) giving tests a running mock gateway.

Fixtures are added by the control-API work (issue 7); this module must stay importable
without side effects because pytest loads it in every session.
"""

from __future__ import annotations
