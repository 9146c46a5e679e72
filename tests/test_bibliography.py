"""The site's one bibliography: docs/bib/<part>.bib, every file globbed by docs/conf.py.

Guards what sphinxcontrib-bibtex does not: a key defined twice (in one file or across
parts), the same paper entered twice under two keys, an entry a reader cannot follow
(neither a DOI nor a URL), and a page citing a key no .bib file defines.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from pathlib import Path

import pytest
from pybtex.database import parse_string

DOCS = Path(__file__).resolve().parents[1] / "docs"
BIB_FILES = sorted((DOCS / "bib").glob("*.bib"))

# @type{key,   (comments and @comment/@preamble/@string blocks are not entries)
_ENTRY_HEAD = re.compile(r"^\s*@(\w+)\s*\{\s*([^,\s]+)\s*,", re.M)
_NOT_ENTRIES = {"comment", "preamble", "string"}
# {cite}`a`, {cite:p}`a,b`, {cite:t}`x`, {footcite:p}`a, b`, {cite:ps}`...`
_CITE_ROLE = re.compile(r"\{(?:foot)?cite(?::[a-z]+)?\}`([^`]*)`")


def _key_sites() -> dict[str, list[str]]:
    """Every entry key, with the file of each definition."""
    sites: dict[str, list[str]] = defaultdict(list)
    for path in BIB_FILES:
        for kind, key in _ENTRY_HEAD.findall(path.read_text(encoding="utf-8")):
            if kind.lower() not in _NOT_ENTRIES:
                sites[key].append(path.name)
    return sites


def _entries():
    """(file name, key, pybtex Entry) for every entry, each file parsed on its own."""
    out = []
    for path in BIB_FILES:
        data = parse_string(path.read_text(encoding="utf-8"), "bibtex")
        out += [(path.name, key, entry) for key, entry in data.entries.items()]
    return out


def _normalised_title(title: str) -> str:
    """Case, accents, TeX braces and commands, punctuation and spacing removed."""
    text = re.sub(r"\\[a-zA-Z]+\s*", "", title)  # \emph, \textit, ...
    text = re.sub(r"\\.", "", text)  # \'e, \"u, \&
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _cited_keys() -> dict[str, set[str]]:
    """Every key a page cites, with the pages citing it."""
    cited: dict[str, set[str]] = defaultdict(set)
    for page in sorted(DOCS.rglob("*.md")):
        if "_build" in page.relative_to(DOCS).parts:
            continue
        for group in _CITE_ROLE.findall(page.read_text(encoding="utf-8")):
            for key in group.split(","):
                if key.strip():
                    cited[key.strip()].add(str(page.relative_to(DOCS)))
    return cited


def test_bib_files_exist_and_parse():
    assert BIB_FILES, "no docs/bib/*.bib file"
    entries = _entries()
    assert len(entries) == sum(len(v) for v in _key_sites().values()), (
        "pybtex and the entry-head scan disagree on the number of entries"
    )


def test_no_key_defined_twice():
    twice = {k: v for k, v in _key_sites().items() if len(v) > 1}
    assert not twice, f"keys defined more than once: {twice}"


def test_no_paper_entered_twice():
    by_title: dict[str, list[str]] = defaultdict(list)
    for name, key, entry in _entries():
        title = entry.fields.get("title", "")
        assert title, f"{name}: {key} has no title"
        by_title[_normalised_title(title)].append(f"{key} ({name})")
    dupes = {t: keys for t, keys in by_title.items() if len(keys) > 1}
    assert not dupes, f"entries sharing a title (one paper, two keys?): {list(dupes.values())}"


def test_every_entry_has_doi_or_url():
    lacking = [f"{key} ({name})" for name, key, entry in _entries()
               if not (entry.fields.get("doi") or entry.fields.get("url"))]
    assert not lacking, f"entries with neither doi nor url: {lacking}"


@pytest.mark.parametrize("field, pattern", [
    ("doi", r"10\.\d{4,9}/\S+"),  # a bare DOI, not https://doi.org/...
    ("url", r"https?://\S+"),
])
def test_doi_and_url_are_well_formed(field, pattern):
    bad = [f"{key} ({name}): {entry.fields[field]!r}" for name, key, entry in _entries()
           if field in entry.fields and not re.fullmatch(pattern, entry.fields[field])]
    assert not bad, f"malformed {field}: {bad}"


def test_arxiv_urls_are_abs_pages():
    bad = [f"{key}: {entry.fields['url']}" for _, key, entry in _entries()
           if "arxiv.org" in entry.fields.get("url", "")
           and not re.fullmatch(r"https://arxiv\.org/abs/\d{4}\.\d{4,5}", entry.fields["url"])]
    assert not bad, f"arXiv urls should be https://arxiv.org/abs/YYMM.NNNNN: {bad}"


def test_every_cited_key_is_defined():
    defined = set(_key_sites())
    missing = {k: sorted(pages) for k, pages in _cited_keys().items() if k not in defined}
    assert not missing, f"cited but in no docs/bib/*.bib: {missing}"


def test_cite_scan_finds_citations():
    # Guards the regex: the site cites well over a hundred papers.
    assert len(_cited_keys()) > 50
