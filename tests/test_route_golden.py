"""Routing agrees with scripts/get_maintainer.pl on real patches from the corpus.

tests/data/get_maintainer/expected.json holds get_maintainer.pl's output (Linux
6.12.117, `--no-git --no-git-fallback --no-rolestats`, same MAINTAINERS as
../shared/kernel) for 270 corpus patches, by Message-ID; generate.py beside it made it.
tests/data/get_maintainer/mailmap is the part of the kernel's .mailmap that changes
addresses in MAINTAINERS.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reviewbot.adapters.kernel.literal_finder import aho_corasick_finder
from reviewbot.core.maintainers.recipients import addresses, get_maintainer_lines, parse_mailmap
from reviewbot.core.maintainers.routing import RouteResult, RoutingIndex, route_patches
from reviewbot.core.maintainers.sections import parse_maintainers
from tests.conftest import DATA
from tests.corpus import read_corpus

pytestmark = pytest.mark.corpus

GOLDEN = DATA / "get_maintainer"
_MID = re.compile(rb"^message-id:\s*<?([^>\s]+)>?", re.I | re.M)  # may be folded


@pytest.fixture(scope="module")
def expected() -> dict[str, list[str]]:
    data = json.loads((GOLDEN / "expected.json").read_text())
    return dict(data["expected"])


@pytest.fixture(scope="module")
def patches(corpus_git: Path, expected: dict[str, list[str]]) -> dict[str, str]:
    """The raw messages of the golden Message-IDs."""
    found: dict[str, str] = {}
    for mail in read_corpus(corpus_git):
        m = _MID.search(mail.raw.split(b"\n\n", 1)[0])
        if m and m.group(1).decode() in expected:
            found[m.group(1).decode()] = mail.raw.decode("utf-8", errors="replace")
    return found


@pytest.fixture(scope="module", params=["pure", "aho-corasick"])
def index(kernel_maintainers: Path, request: pytest.FixtureRequest) -> RoutingIndex:
    """Both K: literal searches: the core's own, and the adapter's Aho-Corasick."""
    finder = aho_corasick_finder if request.param == "aho-corasick" else None
    return RoutingIndex(parse_maintainers(kernel_maintainers.read_text()),
                        literal_finder=finder)


def _has_depth_tie(index: RoutingIndex, result: RouteResult) -> bool:
    """Whether some file has two sections of equal depth: get_maintainer.pl orders those
    by Perl's randomised hash order, so their output order is not reproducible."""
    for f in result.files:
        depths = [d for _, d in index.file_sections(f)]
        if len(depths) != len(set(depths)):
            return True
    return False


def test_golden_sample_is_large_and_all_present(expected: dict[str, list[str]],
                                                patches: dict[str, str]) -> None:
    """At least 200 real patches, each found in the corpus by its Message-ID."""
    assert len(expected) >= 200
    assert sorted(patches) == sorted(expected)


def test_address_sets_equal_get_maintainer_for_every_patch(
        index: RoutingIndex, expected: dict[str, list[str]], patches: dict[str, str]) -> None:
    """Same addresses as get_maintainer.pl for all golden patches, no exceptions."""
    mailmap = parse_mailmap((GOLDEN / "mailmap").read_text())
    differing = {}
    for mid, want in expected.items():
        got = get_maintainer_lines(route_patches(index, [patches[mid]]), mailmap)
        if addresses(got) != addresses(want):
            differing[mid] = (sorted(addresses(got) ^ addresses(want)))
    assert differing == {}


def test_lines_equal_get_maintainer_except_order_among_equal_depths(
        index: RoutingIndex, expected: dict[str, list[str]], patches: dict[str, str]) -> None:
    """Line for line the same output, unless two sections tie on depth (then same lines)."""
    mailmap = parse_mailmap((GOLDEN / "mailmap").read_text())
    unexplained = []
    reordered = 0
    for mid, want in expected.items():
        result = route_patches(index, [patches[mid]])
        got = get_maintainer_lines(result, mailmap)
        if got != want:
            reordered += 1
            if sorted(got) != sorted(want) or not _has_depth_tie(index, result):
                unexplained.append(mid)
    assert unexplained == []
    assert reordered <= len(expected) // 20  # ties are rare: 5 of 270 when generated


def test_mailmap_is_what_turns_maintainers_addresses_into_get_maintainers(
        index: RoutingIndex, expected: dict[str, list[str]], patches: dict[str, str]) -> None:
    """Without .mailmap, jgg@nvidia.com (MAINTAINERS) is not mapped to jgg@ziepe.ca."""
    mid = next(m for m, lines in expected.items() if "Jason Gunthorpe <jgg@ziepe.ca>" in lines)
    plain = get_maintainer_lines(route_patches(index, [patches[mid]]))
    assert "Jason Gunthorpe <jgg@nvidia.com>" in plain
