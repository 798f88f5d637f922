"""The installed wheel, as a user gets it: data inside the package, XDG paths, help, and
one clear line (never a traceback) for every bad input of every command.

Every process is the `reviewbot` of a fresh venv the wheel was installed into
(tests/installed.py), run from an unrelated directory with a clean environment.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reviewbot.ports import RawMail
from tests.conftest import KERNEL_MAINTAINERS, REPO_ROOT
from tests.epochs import make_epoch
from tests.installed import Installed, no_traceback

pytestmark = pytest.mark.slow


def test_installed_copy_runs_from_its_own_files(installed: Installed, home: Path) -> None:
    """The package, its migrations and its policies come from the venv, not the checkout."""
    out = subprocess.run(
        [str(installed.python), "-c", "import reviewbot, reviewbot.adapters.sql.migrate as m, "
         "reviewbot.locations as loc; print(reviewbot.__file__); print(m.migrations_dir()); "
         "print(loc.packaged_policies())"],
        cwd=home, env=installed.env(home), capture_output=True, text=True, check=True)
    package, migrations, policies = (Path(line) for line in out.stdout.split())
    venv = installed.exe.parent.parent
    for path in (package, migrations, policies):  # CI's venv is build/installed, inside
        assert venv in path.parents, path        # the checkout: its files, not the checkout's
        assert not path.is_relative_to(REPO_ROOT / "reviewbot"), path
        assert not path.is_relative_to(REPO_ROOT / "policies"), path
    assert not migrations.is_symlink() and (migrations / "versions" / "0001_initial.py").is_file()
    result = installed.run("policy", "check", home=home)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"{policies / 'default.toml'}: OK\n"
                             f"{policies / 'infiniband.toml'}: OK\n")


def test_data_lives_in_the_xdg_state_directory(installed: Installed, home: Path,
                                               small_epoch: Path) -> None:
    """A query on a fresh machine says there is no database (and makes none); an ingest
    creates ~/.local/state/reviewbot/reviewbot.db, never a file in the working directory."""
    cwd = home / "src" / "linux"
    cwd.mkdir(parents=True)
    query = installed.run("queue", home=home, cwd=cwd)
    state = home / ".local" / "state" / "reviewbot"
    assert query.returncode == 1 and query.stderr == (
        f"reviewbot: error: no database yet at {state / 'reviewbot.db'}: `reviewbot ingest` "
        "creates it (see `reviewbot ingest --help`), or give --db URL\n")
    assert not state.exists()
    ingest = installed.run("ingest", "--list", "linux-rdma", "--epoch", str(small_epoch),
                           home=home, cwd=cwd)
    assert ingest.returncode == 0, ingest.stderr
    assert (state / "reviewbot.db").is_file() and list(cwd.iterdir()) == []
    assert oct((state).stat().st_mode & 0o777) == "0o700"
    stats = installed.run("stats", home=home, cwd=cwd)
    assert stats.returncode == 0 and "messages     300" in stats.stdout


@pytest.mark.parametrize(("env_keys", "where"), [
    ({"STATE_DIRECTORY": "{tmp}/sd"}, "sd/reviewbot.db"),
    ({"XDG_STATE_HOME": "{tmp}/xdg"}, "xdg/reviewbot/reviewbot.db"),
    ({"STATE_DIRECTORY": "{tmp}/sd", "REVIEWBOT_DATABASE_URL": "sqlite:///{tmp}/env.db"},
     "env.db"),
])
def test_systemd_and_xdg_directories_and_the_environment_win_in_order(
        installed: Installed, home: Path, tmp_path: Path, env_keys: dict[str, str],
        where: str) -> None:
    """$STATE_DIRECTORY (systemd) before $XDG_STATE_HOME; $REVIEWBOT_DATABASE_URL before
    both. `db upgrade` says which file it made."""
    (tmp_path / "sd").mkdir()
    env = installed.env(home, **{k: v.format(tmp=tmp_path) for k, v in env_keys.items()})
    result = installed.run("db", "upgrade", home=home, env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / where).is_file(), result.stdout


def test_git_config_names_the_database_and_the_claimant(
        installed: Installed, home: Path, small_epoch: Path) -> None:
    """`reviewbot.database` in git config is used as b4 uses its keys; claim's --by
    defaults to `git config user.email`."""
    env = installed.env(home)
    for key, value in (("reviewbot.database", "~/rb.db"), ("user.email", "me@example.org")):
        subprocess.run(["git", "config", "--global", key, value], env=env, check=True)
    assert installed.run("ingest", "--list", "linux-rdma", "--epoch", str(small_epoch),
                         home=home).returncode == 0
    assert (home / "rb.db").is_file()
    cover = "cover.1735817449.git.leon@kernel.org"
    claim = installed.run("claim", cover, home=home)
    assert claim.returncode == 0, claim.stderr
    assert "me@example.org" in claim.stdout
    subprocess.run(["git", "config", "--global", "--unset", "user.email"], env=env, check=True)
    refused = installed.run("release", cover, home=home)
    assert refused.returncode == 1 and refused.stderr == (
        "reviewbot: error: who acts? give --by EMAIL, or set `git config user.email` "
        "(`release` records the actor)\n")


def test_psycopg_missing_is_one_line_naming_the_extra(installed: Installed, home: Path) -> None:
    """Without the PostgreSQL driver, a postgresql:// URL says which extra to install."""
    code = ("import sys; sys.modules['psycopg'] = None; from reviewbot.cli import main; "
            "sys.exit(main(['--db', 'postgresql://u@127.0.0.1:1/db', 'stats']))")
    result = subprocess.run([str(installed.python), "-c", code], cwd=home,
                            env=installed.env(home), capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.startswith("reviewbot: error: ") and result.stderr.count("\n") == 1
    assert "pip install 'reviewbot[postgres]'" in result.stderr


def test_pip_install_user_finds_its_migrations(installed: Installed, tmp_path: Path,
                                               home: Path) -> None:
    """`pip install --user` (the layout the old data-files broke) migrates a database."""
    base = Path(subprocess.run([str(installed.python), "-c", "import sys; print(sys.base_prefix)"],
                               capture_output=True, text=True, check=True).stdout.strip())
    python = base / "bin" / "python3"
    wheel_dir = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheel_dir),
                    str(REPO_ROOT)], check=True, cwd=tmp_path)
    env = {**installed.env(home), "PYTHONUSERBASE": str(tmp_path / "user")}
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--user",
                    "--disable-pip-version-check", "--no-warn-script-location",
                    str(next(wheel_dir.glob("*.whl")))], env=env, check=True, cwd=home)
    result = subprocess.run([str(tmp_path / "user" / "bin" / "reviewbot"), "db", "upgrade"],
                            env=env, cwd=home, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (home / ".local" / "state" / "reviewbot" / "reviewbot.db").is_file()


def test_every_command_and_option_has_help(installed: Installed, home: Path) -> None:
    """`--help` of every command names each option with a description; the top level is
    written for users (what reviewbot does, where settings and data live)."""
    top = installed.run("--help", home=home)
    assert top.returncode == 0
    assert "mailing-list archives" in top.stdout and "~/.local/state/reviewbot" in top.stdout
    commands = re.findall(r"^    (\w+) {2,}\S", top.stdout, re.M)
    assert {"ingest", "queue", "health", "quarantine", "run"} <= set(commands)
    for command in commands:
        assert installed.run(command, "--help", home=home).returncode == 0, command
    walk = subprocess.run([str(installed.python), "-c", HELP_WALK], cwd=home,
                          env=installed.env(home), capture_output=True, text=True)
    assert walk.returncode == 0, walk.stderr
    assert walk.stdout == "", f"without help:\n{walk.stdout}"


# Every command (and sub-action) needs a one-line help, every option a help text
# (argparse.SUPPRESS marks a deliberately hidden option).
HELP_WALK = """
import argparse
from reviewbot.cli import build_parser

def walk(parser, path):
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            helps = {c.dest: c.help for c in a._choices_actions}
            for name, sub in a.choices.items():
                if not helps.get(name):
                    print("command", *path, name)
                walk(sub, [*path, name])
        elif not isinstance(a, argparse._HelpAction) and not a.help:
            print("option", *path, *(a.option_strings or [a.dest]))

walk(build_parser(), [])
"""


def test_readme_minimal_config_works_as_written(installed: Installed, home: Path,
                                                small_epoch: Path) -> None:
    """The README's minimal config.toml, saved where the README says, ingests and queues
    (a copy of the test epoch stands where the README's clone command puts it)."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme[readme.index("## Install"):]
    config = re.search(r"```toml\n(.*?)```", section, re.S)
    assert config, "no toml block in the Install section"
    where = re.search(r"^# (~/\S+config\.toml)", config.group(1), re.M)
    assert where, "the example names the file it goes into"
    target = home / where.group(1).removeprefix("~/")
    target.parent.mkdir(parents=True)
    target.write_text(config.group(1))
    epochs = re.findall(r'"(~/[^"]+\.git)"', config.group(1))
    maintainers = re.findall(r'maintainers = "(~/[^"]+)"', config.group(1))
    for path in epochs:
        shutil.copytree(small_epoch, home / path.removeprefix("~/"))
    for path in maintainers:
        (home / path.removeprefix("~/")).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(KERNEL_MAINTAINERS, home / path.removeprefix("~/"))
    assert epochs, "the example ingests a local mirror"
    ingest = installed.run("ingest", home=home)
    assert ingest.returncode == 0, ingest.stderr
    assert ingest.stdout.startswith("ingested 300 messages")
    queue = installed.run("queue", "--subsystem", "INFINIBAND SUBSYSTEM", "--as-of",
                          "2025-02-01", home=home)
    assert queue.returncode == 0, queue.stderr
    assert "INFINIBAND SUBSYSTEM" in queue.stdout


# -- one line for every bad input ------------------------------------------------------

@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory, corpus_mails: list[RawMail]) -> Path:
    """Bad inputs of every kind, side by side."""
    d = tmp_path_factory.mktemp("bad")
    (d / "random.mbox").write_bytes(os.urandom(4096))
    (d / "not-a-maildir" / "x").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(d / "plain")], check=True)
    (d / "plain" / "README").write_text("hello\n")
    subprocess.run(["git", "-C", str(d / "plain"), "add", "README"], check=True)
    subprocess.run(["git", "-C", str(d / "plain"), "-c", "user.name=x", "-c", "user.email=x@y",
                    "commit", "-qm", "x"], check=True)
    (d / "garbage.db").write_bytes(os.urandom(8192))
    (d / "unknown-key.toml").write_text("colour = 1\n")
    (d / "broken.toml").write_text("[[sources]\n")
    (d / "bad-policy.toml").write_text('[sla]\nfirst_review = "soon"\n')
    (d / "empty.toml").write_text("")
    (d / "x.patch").write_text("not a patch\n")
    make_epoch(d / "epoch.git", corpus_mails[:20])
    return d


# (arguments, what the one error line must contain); {d} is the directory of bad inputs,
# {db} a database holding 20 corpus mails.
BAD_INPUTS = [
    ("ingest --list l --mbox {d}/random.mbox", "not an mbox"),
    ("ingest --list l --mbox {d}/not-a-maildir", "not a maildir"),
    ("ingest --list l --lore notaurl", "is not the URL of a list"),
    ("ingest --list l --lore http://[::1", "is not the URL of a list"),
    ("ingest --list l --lore https://127.0.0.1:9/linux-rdma", "127.0.0.1"),
    ("ingest --list l --epoch {d}/plain", "not a public-inbox epoch"),
    ("ingest --list l --epoch {d}/missing.git", "no such directory"),
    ("ingest --epoch {d}/epoch.git", "needs --list NAME"),
    ("--config {d}/empty.toml ingest", "nothing to ingest"),
    ("--db postgresql://nobody@127.0.0.1:9/none stats", "cannot open database"),
    ("--db notaurl stats", "is not a database URL"),
    ("--db sqlite:///{d}/missing/dir/x.db stats", "no directory"),
    ("--db sqlite:///{d}/garbage.db stats", "not a database"),
    ("--config {d}/missing.toml stats", "no such settings file"),
    ("--config {d}/unknown-key.toml stats", "unknown-key.toml:1: unknown key colour"),
    ("--config {d}/broken.toml stats", "broken.toml:1: not valid TOML"),
    ("series nope@example.org", "unknown message <nope@example.org>"),
    ("queue --subsystem 'NO SUCH THING'", "NO SUCH THING"),
    ("queue --as-of someday", "someday"),
    ("stats --bogus", "unrecognized arguments: --bogus"),
    ("route --maintainers {d}/missing {d}/x.patch", "missing"),
    ("route --maintainers " + str(KERNEL_MAINTAINERS) + " {d}/x.patch", "no file names"),
    ("--config {d}/empty.toml run", "no [[sources]] configured"),
    ("--config {d}/empty.toml trees poll --once", "no trees configured"),
    ("trees poll --once --tree {d}/missing", "no such directory"),
    ("applied nope@example.org", "unknown message"),
    ("claim nope@example.org --by me@example.org", "unknown series"),
    ("release nope@example.org --by me@example.org", "unknown series"),
    ("assign nope@example.org --to you@example.org", "unknown series"),
    ("am nope@example.org", "nope@example.org"),
    ("--db sqlite:///{d}/garbage.db reparse", "not a database"),
    ("--config {d}/unknown-key.toml health", "unknown key colour"),
    ("override nope@example.org --by a@b --state sleepy", "invalid choice: 'sleepy'"),
    ("outbox flush", "no [mail] smtp"),
    ("outbox retry nope", "nope"),
    ("cycle --tree {d}/missing", "missing"),
    ("pr send 999", "999"),
    ("debt --tree {d}/missing --branch b --upstream u", "missing"),
    ("quarantine show 999", "no quarantined mail '999'"),
    ("db frobnicate", "invalid choice: 'frobnicate'"),
    ("frobnicate", "invalid choice: 'frobnicate'"),
]


@pytest.fixture(scope="module")
def bad_db(installed: Installed, bad: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    home = tmp_path_factory.mktemp("bad-home")
    url = f"sqlite:///{home / 'rb.db'}"
    result = installed.run("--db", url, "ingest", "--list", "linux-rdma", "--epoch",
                           str(bad / "epoch.git"), home=home)
    assert result.returncode == 0, result.stderr
    return url


@pytest.mark.parametrize(("args", "expected"), BAD_INPUTS, ids=[a for a, _ in BAD_INPUTS])
def test_bad_input_is_one_clear_line_never_a_traceback(
        installed: Installed, bad: Path, bad_db: str, home: Path, args: str,
        expected: str) -> None:
    """Exit non-zero; stderr is `reviewbot: error: ...` on one line (or argparse's usage
    plus its one error line); no traceback. -v shows the traceback of a real failure."""
    import shlex

    argv = shlex.split(args.format(d=bad))
    if "--db" not in argv:
        argv = ["--db", bad_db, *argv]
    result = installed.run(*argv, home=home, timeout=120)
    no_traceback(result)
    assert result.returncode not in (0, None), result.stdout
    lines = result.stderr.splitlines()
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1, result.stderr
    if not lines[0].startswith("usage:"):
        assert lines == errors, result.stderr  # nothing but the one line
    assert expected in errors[0], result.stderr


@pytest.mark.parametrize(("args", "expected"), [
    ("policy check {d}/missing", "missing: "),
    ("policy check {d}/bad-policy.toml", "bad-policy.toml:2: "),
])
def test_policy_check_reports_its_findings_as_output(
        installed: Installed, bad: Path, home: Path, args: str, expected: str) -> None:
    """A validator's findings are its output: `file:line: reason` lines on stdout, exit 1."""
    result = installed.run(*args.format(d=bad).split(), home=home)
    no_traceback(result)
    assert result.returncode == 1 and result.stderr == ""
    assert expected in result.stdout


def test_verbose_shows_the_traceback(installed: Installed, bad: Path, home: Path) -> None:
    """-v is how a user gets the traceback for a report."""
    quiet = installed.run("--db", f"sqlite:///{bad / 'garbage.db'}", "stats", home=home)
    loud = installed.run("-v", "--db", f"sqlite:///{bad / 'garbage.db'}", "stats", home=home)
    assert "Traceback" not in quiet.stderr
    assert quiet.returncode == loud.returncode == 1
    assert "Traceback" in loud.stderr or "DatabaseError" in loud.stderr
