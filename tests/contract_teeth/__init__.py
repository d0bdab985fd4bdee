"""The contract suite's proof of teeth: deliberately wrong gateways and unit checks."""
