"""Every reference in the README and docs/ resolves: a file or anchor of this repository, or
a public https URL; no citation of files that are not in the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|<(https?://[^>\s]+)>")
CODE_PATH = re.compile(r"`((?:[\w.-]+/)+[\w.-]+\.(?:py|yaml|toml|md|json|txt|html))`")
# Paths in backticks that name what a user creates (out/...) or a placeholder (NAME, DIR).
USER_PATH = re.compile(r"^out/|\b[A-Z]{3,}\b")


def anchors(markdown: Path) -> set[str]:
    text = markdown.read_text()
    found = set(re.findall(r'<a id="([^"]+)"></a>', text))
    for heading in re.findall(r"^#+ (.+)$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


def references(document: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", document.read_text(), flags=re.S)  # code blocks aside
    return [a or b for a, b in LINK.findall(text)]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_link_resolves(document: Path) -> None:
    broken = []
    for target in references(document):
        if target.startswith(("http://", "https://")):
            host = re.sub(r"^https?://([^/:]+).*", r"\1", target)
            if target.startswith("http://") and host not in {"127.0.0.1", "localhost"}:
                broken.append(f"{target}: not https")
            continue
        path_part, _, anchor = target.partition("#")
        path = (document.parent / path_part).resolve() if path_part else document
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{target}: no such anchor")
    assert not broken, broken


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_no_reference_outside_the_repository(document: Path) -> None:
    text = document.read_text()
    assert "shared/reference" not in text and "gateway-api-docs" not in text
    assert not re.search(r"facts B\d|\(B\d+\)", text)  # items are links to gateway-facts.md
    missing = [
        path
        for path in CODE_PATH.findall(text)
        if not USER_PATH.search(path)
        and not (ROOT / path).exists()
        and not (document.parent / path).exists()
    ]
    assert not missing, missing


def test_the_facts_page_has_every_item_it_is_cited_for() -> None:
    cited = set()
    for document in DOCUMENTS:
        cited |= set(re.findall(r"gateway-facts\.md#(b\d+)", document.read_text()))
    for source in (ROOT / "contracts").glob("*.py"):
        cited |= set(re.findall(r"gateway-facts\.md#(b\d+)", source.read_text()))
    assert cited and cited <= anchors(ROOT / "docs" / "gateway-facts.md"), cited
