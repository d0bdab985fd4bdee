"""Thin HTTP handlers: authenticate, validate, call the core, render."""
