"""Persistent state: the state codec (``codec``) and what builds on it."""
