"""policies/README.md documents the schema; every TOML example in it must validate."""

from __future__ import annotations

import re
from pathlib import Path

from reviewbot.core.policy.schema import (
    SCHEMA,
    TABLE_ARRAYS,
    check_policy_files,
    parse_policy_text,
)

README = Path(__file__).resolve().parents[2] / "policies" / "README.md"
BLOCKS = re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_an_example_per_table() -> None:
    """Each table of the schema has an example block."""
    headers = {m for b in BLOCKS for m in re.findall(r"^\[+([a-z_]+)", b, re.M)}
    assert headers == set(SCHEMA)


def test_every_example_block_validates() -> None:
    """Each block parses alone without issues."""
    for n, block in enumerate(BLOCKS):
        partial, issues = parse_policy_text(block, f"README.md block {n + 1}")
        assert issues == [], issues
        assert partial


def test_all_examples_together_form_a_valid_subsystem_file() -> None:
    """Concatenated, the examples are one complete subsystem policy."""
    policies, issues = check_policy_files({"default.toml": "", "rdma.toml": "\n".join(BLOCKS)})
    assert issues == {"default.toml": [], "rdma.toml": []}
    assert policies is not None
    rdma = policies.for_subsystem("INFINIBAND SUBSYSTEM")
    assert rdma.reviewers.pool == ("yanjun.zhu@linux.dev",)


def test_every_key_is_documented() -> None:
    """Each key the validator accepts appears, in backquotes, in the README."""
    text = README.read_text(encoding="utf-8")
    keys = {k for table in SCHEMA.values() for k in table}
    keys |= {k for spec in TABLE_ARRAYS.values() for k in spec}
    assert sorted(k for k in keys if f"`{k}`" not in text) == []
