"""The documentation's sample input URLs, answered from bundled files.

The mapping lives in ``samples.toml`` beside the images (``fixtures/images`` in the repo)::

    [[samples]]
    name = "cat.jpg"                      # file in the directory, and its /samples/<name> path
    url = "https://.../1757499948018-hntkjsg9kj.jpg"
    media_type = "image/jpeg"
    description = "..."                   # optional

A URL matches only exactly (a query string or a trailing slash makes it a different URL).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from mock_gateway.config.paths import images_dir

MAPPING_FILE = "samples.toml"


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    url: str
    media_type: str
    description: str
    data: bytes = field(repr=False)


class SampleImages:
    """The documentation's sample input URLs mapped to bundled files, so documented examples
    run offline. Files are read once, at construction; a broken mapping raises ValueError."""

    def __init__(self, directory: Path | None = None) -> None:
        # $MOCK_GATEWAY_FIXTURES/images if it has a samples.toml, else the bundled images
        self.directory = directory if directory is not None else images_dir()
        mapping = self.directory / MAPPING_FILE
        try:
            with mapping.open("rb") as handle:
                document = tomllib.load(handle)
        except FileNotFoundError:
            raise FileNotFoundError(f"sample image mapping {mapping} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{mapping}: {exc}") from None
        entries = document.get("samples", [])
        if not isinstance(entries, list):
            raise ValueError(f"{mapping}: 'samples' must be an array of tables")
        self._by_name: dict[str, Sample] = {}
        self._by_url: dict[str, Sample] = {}
        for number, entry in enumerate(entries, start=1):
            sample = self._load(mapping, number, entry)
            if sample.name in self._by_name or sample.url in self._by_url:
                raise ValueError(f"{mapping}: sample {number} repeats a name or URL")
            self._by_name[sample.name] = sample
            self._by_url[sample.url] = sample

    def lookup(self, url: str) -> bytes | None:
        """The bundled bytes for a documented sample URL (exact match), else None."""
        sample = self._by_url.get(url)
        return sample.data if sample else None

    def urls(self) -> list[str]:
        return list(self._by_url)

    def names(self) -> list[str]:
        return list(self._by_name)

    def get(self, name: str) -> bytes | None:
        """The bytes of the sample called ``name`` (for serving ``/samples/<name>``)."""
        sample = self._by_name.get(name)
        return sample.data if sample else None

    def media_type(self, name: str) -> str | None:
        """The Content-Type to serve ``name`` with."""
        sample = self._by_name.get(name)
        return sample.media_type if sample else None

    def samples(self) -> list[Sample]:
        return list(self._by_name.values())

    def _load(self, mapping: Path, number: int, entry: object) -> Sample:
        where = f"{mapping}: sample {number}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must be a table")
        fields = {key: entry.get(key) for key in ("name", "url", "media_type")}
        for key, value in fields.items():
            if not isinstance(value, str) or not value:
                raise ValueError(f"{where} needs a non-empty string '{key}'")
        name, url, media_type = (str(fields[key]) for key in ("name", "url", "media_type"))
        if "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"{where}: name {name!r} must be a plain file name")
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"{where}: url {url!r} must be an http(s) URL")
        try:
            data = (self.directory / name).read_bytes()
        except OSError as exc:
            raise ValueError(f"{where}: cannot read {name}: {exc.strerror}") from None
        description = entry.get("description", "")
        return Sample(name, url, media_type, str(description), data)
