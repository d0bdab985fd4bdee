"""Every clause of the contract the suite checks, with a stable id.

Ids never change meaning once published (reports and diffs refer to them); add new ones
instead. ``source`` says where the clause comes from: ``docs`` (the gateway's documentation),
``contract`` (openapi.yaml), ``docs/gateway-facts.md#b<n>`` (a documented gap and the mock's
decision) or ``suite`` (a property of the suite itself).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Clause:
    id: str
    title: str
    source: str


_CLAUSES = [
    # The suite itself
    Clause(
        "SAFE-URLS",
        "Generated requests carry only documented sample URLs, data: URLs or "
        "the suite's own loopback receiver",
        "suite",
    ),
    # Authentication (APIM)
    Clause(
        "AUTH-MISSING-401",
        "A request without a key gets 401 in APIM's {statusCode, message} shape",
        "docs + docs/gateway-facts.md#b1",
    ),
    Clause(
        "AUTH-INVALID-401",
        "A request with an unknown key gets 401 in APIM's shape",
        "docs + docs/gateway-facts.md#b1",
    ),
    Clause(
        "ROUTE-UNKNOWN-404",
        "An undocumented route or method gets APIM's 404 "
        "{statusCode: 404, message: 'Resource not found'}",
        "docs/gateway-facts.md#b1",
    ),
    # Submit
    Clause("SUBMIT-202", "A valid submit is accepted with 202 (not 200 or 201)", "docs"),
    Clause("SUBMIT-BODY", "The 202 body is {request_id, status: QUEUED, polling_url}", "docs"),
    Clause("POLLING-URL", "polling_url is <target>/v2/requests/status/<request_id>", "docs"),
    Clause("VALID-ACCEPTED", "Schema-valid requests are accepted (202)", "contract"),
    Clause(
        "INVALID-400",
        "Schema-invalid requests are rejected with 400",
        "contract + docs/gateway-facts.md#b6",
    ),
    Clause(
        "ERROR-SHAPE-400",
        "A 400 has the documented {error, message} body with a non-empty message",
        "docs",
    ),
    Clause(
        "UNKNOWN-MODEL-400",
        "An unknown byteplus model gets 400 {error: 'Model not found', "
        "message: \"Model '<m>' not found or is disabled\"}",
        "docs",
    ),
    Clause("NO-5XX", "No request the suite sends gets a 5xx answer", "contract"),
    # Schemathesis response conformance
    Clause(
        "STATUS-CODE-DOCUMENTED",
        "Every status code answered is documented for the operation",
        "contract",
    ),
    Clause(
        "CONTENT-TYPE",
        "Every answer has the documented content type (application/json)",
        "contract",
    ),
    Clause("RESPONSE-SCHEMA", "Every JSON answer conforms to its schema", "contract"),
    Clause(
        "RESPONSE-HEADERS",
        "Documented response headers are present (Retry-After on 429)",
        "contract",
    ),
    Clause(
        "RATE-LIMIT-429",
        "Beyond a key's rate limit a call gets 429 {statusCode: 429, message: 'Rate limit is"
        " exceeded. Try again in N seconds.'} with Retry-After: N, and is not charged",
        "docs/gateway-facts.md#b1",
    ),
    # Wallet
    Clause(
        "BALANCE-402",
        "A submit beyond the balance gets 402 {error: 'Insufficient Balance',"
        " message: 'Your wallet does not have enough balance. Required: $<price>'}",
        "docs + docs/gateway-facts.md#b2, #b3",
    ),
    Clause(
        "MONEY-CHARGE",
        "A submit charges exactly x-price-usd x num_images",
        "docs + docs/gateway-facts.md#b3",
    ),
    Clause("MONEY-ERROR-REFUND", "A job that ends ERROR is not charged", "docs"),
    Clause(
        "CONTROL-FAULT-APPLIES",
        "A fault rule the mock's control API accepted takes effect: an injected outcome"
        " ends the job with that status and that error text",
        "mock (control API)",
    ),
    Clause("MONEY-402-UNCHANGED", "A 402 leaves the balance unchanged", "docs"),
    Clause("MONEY-REJECTED-FREE", "A rejected (4xx) submit is free", "docs/gateway-facts.md#b6"),
    Clause(
        "SERVER-ERROR-SHAPE", "A 500 has a JSON body in the gateway's or APIM's shape", "contract"
    ),
    # Status and lifecycle
    Clause(
        "STATUS-UNKNOWN-404",
        "An unknown request id gets 404 in a documented error shape",
        "docs/gateway-facts.md#b5",
    ),
    Clause(
        "STATUS-FORWARD", "Statuses only move forward: QUEUED -> PROCESSING -> terminal", "docs"
    ),
    Clause(
        "TERMINAL-STABLE",
        "A terminal status (and its output, error, completed_at) never changes",
        "docs",
    ),
    Clause("COMPLETED-AT", "completed_at is set exactly when the status is terminal", "docs"),
    Clause(
        "OUTPUT-IFF-COMPLETED",
        "output is present exactly when COMPLETED; error is a string exactly when FAILED or ERROR",
        "docs",
    ),
    Clause(
        "MODEL-ID",
        "model_id is the operation's model slug and request_id the one submitted",
        "docs",
    ),
    Clause("MEDIA-COUNT", "A COMPLETED job has len(output.media_url) == num_images", "docs"),
    Clause(
        "MEDIA-TYPE",
        "output.media_type is the documented type (PNG for 5.0 Lite, JPEG for byteplus)",
        "docs",
    ),
    Clause("MEDIA-DOWNLOAD", "Every media URL downloads an image of the documented type", "docs"),
    Clause(
        "MEDIA-SIZE",
        "Downloaded images have the requested size (custom sizes exactly; "
        "presets by aspect ratio; 2K/4K by long side)",
        "docs + docs/gateway-facts.md#b9",
    ),
    Clause("ID-UNIQUE", "Request ids are unique", "docs"),
    Clause("ID-PREFIX", "Request ids are prefixed with the model slug and '_'", "docs"),
    Clause(
        "TIMESTAMPS-ORDER",
        "created_at <= updated_at <= completed_at, created_at never changes",
        "docs",
    ),
    Clause("POLLING-URL-SAME", "polling_url answers the same as the status endpoint", "docs"),
    Clause(
        "KEY-ISOLATION", "A key cannot see another key's request (404)", "docs/gateway-facts.md#b5"
    ),
    Clause(
        "WEBHOOK-BODY",
        "The webhook body equals the final status body",
        "docs + docs/gateway-facts.md#b7",
    ),
    Clause(
        "TIMING-RANGE",
        "Created-to-completed durations fall in the documented range "
        "(only checked live or on the realistic profile)",
        "docs + docs/gateway-facts.md#b11",
    ),
]

CLAUSES: dict[str, Clause] = {clause.id: clause for clause in _CLAUSES}

# Schemathesis built-in checks, by the clause each one verifies.
SCHEMATHESIS_CHECKS = {
    "not_a_server_error": "NO-5XX",
    "status_code_conformance": "STATUS-CODE-DOCUMENTED",
    "content_type_conformance": "CONTENT-TYPE",
    "response_schema_conformance": "RESPONSE-SCHEMA",
    "response_headers_conformance": "RESPONSE-HEADERS",
}


def clause(clause_id: str) -> Clause:
    """The clause with that id (a KeyError names a typo at import time)."""
    return CLAUSES[clause_id]
