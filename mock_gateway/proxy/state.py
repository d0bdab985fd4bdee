"""Everything one proxy owns, built once from its settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from mock_gateway.proxy.answers import AnswerContract, load_answers
from mock_gateway.proxy.forwarding import Forwarder
from mock_gateway.proxy.lifecycle import JobTracker
from mock_gateway.proxy.record import ProxyRecorder, Sanitizer
from mock_gateway.proxy.report import ProxyReport
from mock_gateway.proxy.settings import ProxySettings
from mock_gateway.proxy.spend import SpendCap
from mock_gateway.validation.contract import Contract, load_contract

log = logging.getLogger("mock_gateway.proxy")


@dataclass
class ProxyState:
    settings: ProxySettings
    contract: Contract  # the mock's reading: request validators and submit operations
    answers: AnswerContract
    tracker: JobTracker
    spend: SpendCap
    sanitizer: Sanitizer
    report: ProxyReport
    recorder: ProxyRecorder | None
    forwarder: Forwarder | None = None  # set while the app runs (it owns the HTTP client)
    closed: bool = False

    @classmethod
    def build(cls, settings: ProxySettings) -> ProxyState:
        contract = load_contract()
        sanitizer = Sanitizer(settings.upstream)
        return cls(
            settings=settings,
            contract=contract,
            answers=load_answers(),
            tracker=JobTracker(list(contract.submit_operations()), settings.max_tracked_jobs),
            spend=SpendCap(settings.max_spend_usd),
            sanitizer=sanitizer,
            report=ProxyReport(
                settings.upstream,
                exchanges=settings.max_exchanges,
                violations=settings.max_violations,
                refusals=settings.max_refusals,
                body_chars=settings.max_body_chars,
                scrub=sanitizer.text,
            ),
            recorder=ProxyRecorder(settings.record_dir) if settings.record_dir else None,
        )

    def report_json(self) -> dict[str, Any]:
        return self.report.as_json(self.spend.summary())

    def close(self) -> str:
        """Finish the recording (its index) once; the session's summary."""
        if self.recorder is not None and not self.closed:
            try:
                self.recorder.close(self.tracker.timings.summary())
            except OSError as exc:  # e.g. the directory went away: say so, stop anyway
                log.error("proxy could not finish the recording: %s", exc)
        self.closed = True
        return self.report.summary(self.spend.summary())
