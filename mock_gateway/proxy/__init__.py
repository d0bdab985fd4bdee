"""``mock-gateway proxy``: a validating, recording, spend-capping proxy in front of a gateway.

It forwards the five submit endpoints and the status endpoint to one upstream (the live
gateway, in real use), checks every request and every answer against
``contracts/openapi.yaml`` with the mock's own readers and validators, refuses submits that
would take the run over its spending limit, and can record every exchange in the contract
suite's format. Modules:

- ``settings``: what one proxy is told (upstream, limits, caps);
- ``inbound``: checking a request against the contract (the mock's validators);
- ``answers`` and ``rules``: what the contract says about answers, and checking one;
- ``lifecycle``: what is known per request id (statuses forward, timestamps, media);
- ``spend``: the price of a submit and the run's spending limit;
- ``forwarding``: the one place that talks to the upstream;
- ``record``: sanitized recording in the suite's format, with the suite's labels;
- ``report``: bounded memory of exchanges, violations and refusals (``/_proxy/report``);
- ``app`` and ``serve``: the HTTP layer and the command.

Importing this package imports none of them (the command line stays quick to start).
"""
