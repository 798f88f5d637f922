"""Read deploy/Containerfile's instructions (no container engine here): the image's ENV
and the HEALTHCHECK command, so tests can run that command as the image would."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from tests.conftest import REPO_ROOT

CONTAINERFILE = REPO_ROOT / "deploy" / "Containerfile"


def instructions(path: Path = CONTAINERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in path.read_text().splitlines()
                                          if not line.lstrip().startswith("#")))
    found = []
    for line in text.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def image_env(path: Path = CONTAINERFILE) -> dict[str, str]:
    """The ENV of the image (KEY=VALUE form)."""
    env: dict[str, str] = {}
    for word, rest in instructions(path):
        if word == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(rest))
    return env


def exec_form(rest: str) -> list[str]:
    """`CMD ["a", "b"]` (after any options) as a list."""
    return list(json.loads(rest[rest.index("["):]))


def healthcheck(path: Path = CONTAINERFILE) -> tuple[list[str], list[str]]:
    """(options, command) of the HEALTHCHECK."""
    rest = next(r for w, r in instructions(path) if w == "HEALTHCHECK")
    options = [o for o in rest[:rest.index("CMD")].split() if o]
    return options, exec_form(rest[rest.index("CMD"):])


def command(path: Path = CONTAINERFILE) -> list[str]:
    """ENTRYPOINT + CMD, as the container runs them."""
    found = dict(instructions(path))
    return exec_form(found["ENTRYPOINT"]) + exec_form(found["CMD"])
