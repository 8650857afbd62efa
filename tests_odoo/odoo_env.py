"""What `make test-odoo` and `make odoo-demo` share: Odoo's virtualenv, posbridge and the addon
installed into it as a user installs them, PostgreSQL, and a cached template database.

Standard library only: it runs under the project's .venv python, and drives Odoo's own venv
(.venv-odoo/) and the PostgreSQL command-line tools as subprocesses.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".venv-odoo"  # Odoo's virtualenv and the runner's wheels; gitignored
VENV = STATE / "venv"
VENV_PY = VENV / "bin" / "python"
WHEELS = STATE / "wheels"
LOGS = ROOT / "tests_odoo" / "logs"  # gitignored
ADDON = ROOT / "odoo_addon" / "posbridge"
ADDON_NAME = "posbridge"

# What the template database has installed before the addon: its dependencies and more.
TEMPLATE_MODULES = "sale_management,account_payment"
# Bump when what goes into the template changes in a way its key does not see.
TEMPLATE_FORMAT = "1"
TEMPLATE_PREFIX = "posbridge_tmpl_"

# A lock shared by every build on this machine (other work trees build at the same time).
BUILD_LOCK = Path(tempfile.gettempdir()) / "posbridge-build.lock"
# PostgreSQL and Odoo's data dir are per machine, not per work tree: so is the template's lock.
TEMPLATE_LOCK = Path(tempfile.gettempdir()) / "posbridge-odoo-template.lock"


def say(msg: str) -> None:
    print(f"[odoo] {msg}", flush=True)


def die(msg: str, code: int = 2) -> NoReturn:
    print(f"[odoo] ERROR: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


@contextlib.contextmanager
def timed(label: str, timings: dict[str, float]) -> Iterator[None]:
    t0 = time.monotonic()
    try:
        yield
    finally:
        timings[label] = time.monotonic() - t0
        say(f"{label}: {timings[label]:.1f} s")


@contextlib.contextmanager
def file_lock(path: Path, what: str) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for {what} ({path}) ...")
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def clean_env() -> dict[str, str]:
    """The environment for Odoo's venv: the Makefile exports VIRTUAL_ENV=.venv."""
    env = dict(os.environ)
    for k in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX"):
        env.pop(k, None)
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run(cmd: list[str], *, quiet: bool = True, **kw: object) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure print its output and exit."""
    kw.setdefault("env", clean_env())
    p = subprocess.run(cmd, text=True, capture_output=quiet, **kw)  # type: ignore[call-overload]
    if p.returncode != 0:
        if quiet:
            sys.stderr.write(p.stdout[-8000:] + p.stderr[-8000:])
        die(f"command failed ({p.returncode}): {' '.join(map(str, cmd))}")
    return p  # type: ignore[no-any-return]


def odoo_src(arg: str | None) -> Path:
    src = arg or os.environ.get("ODOO_SRC")
    if not src and (ROOT.parent / "shared" / "odoo" / "18.0" / "odoo-bin").is_file():
        src = str(ROOT.parent / "shared" / "odoo" / "18.0")
    if not src:
        die("set ODOO_SRC to an Odoo 18 source tree (the directory holding odoo-bin)")
    path = Path(src).resolve()
    if not (path / "odoo-bin").is_file():
        die(f"ODOO_SRC={src}: no odoo-bin there")
    return path


def requirements_file(src: Path) -> Path:
    """requirements-18.txt beside the tree (shared/odoo), else the tree's own requirements.txt."""
    for cand in (src.parent / "requirements-18.txt", src / "requirements.txt"):
        if cand.is_file():
            return cand
    die(f"no requirements-18.txt beside {src} nor requirements.txt in it")


# ---------------------------------------------------------------- Odoo's virtualenv


def ensure_venv(src: Path) -> str:
    """Odoo's virtualenv, made once per requirements file (and base Python); returns its key."""
    req = requirements_file(src)
    key = hashlib.sha256(
        req.read_bytes() + f"\n{sys.version}\n{sys.base_prefix}\nvenv-format-1".encode()
    ).hexdigest()[:16]
    stamp = VENV / ".posbridge-key"
    with file_lock(STATE / "venv.lock", "Odoo's virtualenv"):
        if VENV_PY.exists() and stamp.exists() and stamp.read_text().strip() == key:
            say(f"virtualenv {VENV.relative_to(ROOT)} is up to date ({req.name}, key {key})")
            return key
        say(f"creating {VENV.relative_to(ROOT)} from {req} (key {key}) ...")
        shutil.rmtree(VENV, ignore_errors=True)
        STATE.mkdir(parents=True, exist_ok=True)
        base_py = getattr(sys, "_base_executable", None) or sys.executable
        run([base_py, "-m", "venv", str(VENV)])
        pip = [str(VENV_PY), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        run([*pip, "setuptools<70", "wheel"])
        run([*pip, "-r", str(req)])
        stamp.write_text(key + "\n")  # last: an interrupted creation is redone
    return key


# ---------------------------------------------------------------- posbridge and the addon


def install_posbridge() -> None:
    """posbridge into Odoo's venv: a release wheel built by the project's maturin (cargo's
    target/ keeps re-runs incremental), else `pip install .` as a user does."""
    maturin = ROOT / ".venv" / "bin" / "maturin"
    WHEELS.mkdir(parents=True, exist_ok=True)
    out = WHEELS / "posbridge"
    shutil.rmtree(out, ignore_errors=True)
    pip = [str(VENV_PY), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    with file_lock(BUILD_LOCK, "the build lock"):
        if maturin.exists():
            run(
                [str(maturin), "build", "--release", "--quiet", "--out", str(out),
                 "--interpreter", str(VENV_PY)],
                cwd=ROOT,
            )
            wheels = sorted(out.glob("posbridge-*.whl"))
            if len(wheels) != 1:
                die(f"expected one posbridge wheel in {out}, found {wheels}")
            run([*pip, "--force-reinstall", "--no-deps", str(wheels[0])])
        else:
            run([*pip, "--force-reinstall", "--no-deps", str(ROOT)])
    p = run([str(VENV_PY), "-c", "import posbridge; print(posbridge.__version__)"], cwd="/")
    say(f"posbridge {p.stdout.strip()} installed into {VENV.relative_to(ROOT)} (release build)")


def git_files(addon: Path, *extra: str) -> list[str]:
    p = subprocess.run(
        ["git", "ls-files", *extra, "."], cwd=addon, text=True, capture_output=True
    )
    return [f for f in p.stdout.splitlines() if f] if p.returncode == 0 else []


def install_addon(addon: Path) -> None:
    """The addon as a user installs it: its whool wheel, `pip install --no-deps` (it requires
    odoo==18.0.*, and the Odoo tree is not a pip distribution)."""
    if not (addon / "__manifest__.py").is_file():
        die(f"no addon at {addon} (no __manifest__.py)")
    tracked = git_files(addon)
    untracked = git_files(addon, "--others", "--exclude-standard")
    untracked = [f for f in untracked if "__pycache__" not in f and not f.endswith(".pyc")]
    if "__manifest__.py" not in tracked:
        die(
            f"{addon}/__manifest__.py is not tracked by git: whool packages git-tracked files"
            " only, so the wheel would have no addon in it. `git add` the addon's files."
        )
    if untracked:
        say(
            f"WARNING: {len(untracked)} untracked file(s) in {addon.name}/ are NOT in the wheel"
            f" (whool packages git-tracked files only; `git add` them): "
            + ", ".join(untracked[:10]) + (" ..." if len(untracked) > 10 else "")
        )
    out = WHEELS / "addon"
    shutil.rmtree(out, ignore_errors=True)
    pip = [str(VENV_PY), "-m", "pip", "--disable-pip-version-check"]
    run([*pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(addon)])
    wheels = sorted(out.glob("odoo_addon_posbridge-*.whl"))
    if len(wheels) != 1:
        die(f"expected one odoo_addon_posbridge wheel in {out}, found {wheels}")
    with zipfile.ZipFile(wheels[0]) as z:
        names = z.namelist()
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        requires = re.findall(r"^Requires-Dist: (.+)$", z.read(meta).decode(), re.M)
    prefix = f"odoo/addons/{ADDON_NAME}/"
    in_wheel = {n[len(prefix):] for n in names if n.startswith(prefix)}
    missing = sorted(set(tracked) - in_wheel - {"pyproject.toml"})
    if "__manifest__.py" not in in_wheel or missing:
        die(f"{wheels[0].name} lacks {missing or ['__manifest__.py']} (its files: {sorted(in_wheel)})")
    if not any(re.match(r"posbridge\b", r) for r in requires):
        die(f"{wheels[0].name} does not require posbridge (Requires-Dist: {requires})")
    run([*pip, "install", "--quiet", "--force-reinstall", "--no-deps", str(wheels[0])])
    p = run(
        [str(VENV_PY), "-c",
         "import importlib.util as u; print(u.find_spec('odoo.addons.posbridge').origin)"],
        cwd="/",
    )
    say(
        f"{wheels[0].name} installed ({len(in_wheel)} files, Requires-Dist: {', '.join(requires)})"
        f" -> {Path(p.stdout.strip()).parent}"
    )


# ---------------------------------------------------------------- PostgreSQL


def _psql(sql: str, db: str = "postgres") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["psql", "-X", "-A", "-t", "-q", "-d", db, "-c", sql], text=True, capture_output=True
    )


def ensure_postgres() -> None:
    """PostgreSQL running, and a role for the current user (Odoo refuses 'postgres')."""
    for tool in ("psql", "createdb", "dropdb", "pg_isready"):
        if not shutil.which(tool):
            die(f"{tool} not found: install PostgreSQL (apt-get install postgresql)")
    user = os.environ.get("PGUSER") or getpass.getuser()
    if user == "postgres":
        die("Odoo refuses to run as the 'postgres' role: run as another user (root works)")
    is_root = os.geteuid() == 0
    if subprocess.run(["pg_isready", "-q"]).returncode != 0:
        started = False
        if shutil.which("pg_lsclusters"):
            out = subprocess.run(["pg_lsclusters", "-h"], text=True, capture_output=True).stdout
            for line in out.splitlines():
                f = line.split()
                if len(f) >= 4 and f[3] != "online":
                    if not is_root:
                        die(f"PostgreSQL {f[0]}/{f[1]} is {f[3]}: start it (as root:"
                            f" pg_ctlcluster {f[0]} {f[1]} start)")
                    say(f"starting PostgreSQL: pg_ctlcluster {f[0]} {f[1]} start")
                    subprocess.run(["pg_ctlcluster", f[0], f[1], "start"], check=False)
                    started = True
        if not started:
            die("PostgreSQL is not running (pg_isready) and no stopped cluster to start was found")
        for _ in range(60):
            if subprocess.run(["pg_isready", "-q"]).returncode == 0:
                break
            time.sleep(0.5)
        else:
            die("PostgreSQL did not come up (pg_isready)")
    p = _psql("select 1")
    if p.returncode != 0:
        if "does not exist" in p.stderr and f'"{user}"' in p.stderr:
            if not is_root:
                die(f'no PostgreSQL role "{user}": sudo -u postgres createuser -s {user}')
            say(f"creating PostgreSQL role {user}: su postgres -c 'createuser -s {user}'")
            subprocess.run(["su", "postgres", "-c", f"createuser -s {user}"], check=True)
        else:
            die(f"cannot connect to PostgreSQL as {user}: {p.stderr.strip()}")


def db_exists(name: str) -> bool:
    return _psql(f"select 1 from pg_database where datname = '{name}'").stdout.strip() == "1"


def databases(like: str) -> list[str]:
    out = _psql(f"select datname from pg_database where datname like '{like}'").stdout
    return [d for d in out.split() if d]


def drop_db(name: str) -> None:
    subprocess.run(["dropdb", "--if-exists", "--force", name], capture_output=True)
    shutil.rmtree(filestore(name), ignore_errors=True)


def drop_dbs_of_dead_runs(prefix: str, rest: str) -> None:
    """Drop the databases `prefix` + `rest` (a regex whose group 1 is the pid of the run that
    made them) whose run was killed: its pid is gone."""
    for name in databases(prefix.replace("_", "\\_") + "%"):
        m = re.fullmatch(re.escape(prefix) + rest, name)
        if not m:
            continue
        try:
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            say(f"dropping {name}, left by a run that is gone")
            drop_db(name)
        except PermissionError:
            pass


def data_dir() -> Path:
    """Odoo's default data dir (its filestores), which the runner leaves at its default."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "Odoo"


def filestore(db: str) -> Path:
    return data_dir() / "filestore" / db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- the template database


def tree_key(src: Path) -> str:
    """The Odoo tree's version: its release and every file's path and size (cheap, and the
    same for a copy of the tree, unlike mtimes)."""
    h = hashlib.sha256()
    h.update((src / "odoo" / "release.py").read_bytes())
    for dirpath, dirnames, filenames in os.walk(src / "odoo"):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for fn in sorted(filenames):
            if fn.endswith((".pyc", ".pyo")):
                continue
            p = os.path.join(dirpath, fn)
            h.update(f"{os.path.relpath(p, src)}\0{os.path.getsize(p)}\n".encode())
    return h.hexdigest()


def odoo_cmd(src: Path, db: str, *args: str) -> list[str]:
    return [str(VENV_PY), str(src / "odoo-bin"), "-d", db, "--db-filter", f"^{re.escape(db)}$", *args]


def ensure_template(src: Path, venv_key: str, timings: dict[str, float]) -> str:
    """A database with TEMPLATE_MODULES and demo data installed, keyed on the Odoo tree, the
    modules and the venv. Created under a temporary name and renamed when complete, so an
    existing template is a complete one. Returns its name."""
    key = hashlib.sha256(
        f"{tree_key(src)}|{TEMPLATE_MODULES}|demo|{venv_key}|{TEMPLATE_FORMAT}".encode()
    ).hexdigest()[:12]
    name = TEMPLATE_PREFIX + key
    if db_exists(name) and filestore(name).is_dir():
        say(f"template database {name} is up to date ({TEMPLATE_MODULES}, demo data)")
        return name
    with file_lock(TEMPLATE_LOCK, "the template database"):
        if db_exists(name) and filestore(name).is_dir():
            return name
        for old in databases(TEMPLATE_PREFIX + "%"):
            say(f"dropping stale template {old}")
            drop_db(old)
        building = f"{name}_building"
        drop_db(building)
        say(f"creating template database {name}: {TEMPLATE_MODULES} with demo data (about 2-3 min) ...")
        LOGS.mkdir(parents=True, exist_ok=True)
        log = LOGS / f"{name}.log"
        # Two steps. Base's demo data puts the company in the US, and then installing account
        # auto-installs l10n_us_account, which needs l10n_us: this tree has both as manifests
        # only. So: base with its demo data, the company's country cleared (as without demo
        # data), then the rest with theirs.
        steps = [
            ("base", None),
            (TEMPLATE_MODULES, "update res_partner set country_id = null, state_id = null"
                               " where id in (select partner_id from res_company)"),
        ]
        with timed("template database init", timings), open(log, "w") as lf:
            for modules, sql_before in steps:
                if sql_before:
                    r = _psql(sql_before, building)
                    if r.returncode != 0:
                        drop_db(building)
                        die(f"preparing {building}: {r.stderr.strip()}")
                # --test-enable with tags that select no test: Odoo's test mode, as the tests
                # run in (it also never installs a country's l10n modules on its own).
                p = subprocess.run(
                    odoo_cmd(src, building, "-i", modules, "--stop-after-init",
                             "--test-enable", "--test-tags", f"/{ADDON_NAME}",
                             "--http-port", str(free_port()), "--log-level=warn"),
                    stdout=lf, stderr=subprocess.STDOUT, env=clean_env(), cwd=ROOT,
                )
                if p.returncode != 0:
                    break
        text = log.read_text(errors="replace")
        bad = [ln for ln in text.splitlines() if re.search(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ", ln)]
        if p.returncode != 0 or bad:
            drop_db(building)
            sys.stderr.write("\n".join(text.splitlines()[-60:]) + "\n")
            die(f"the template database could not be created (exit {p.returncode}); log: {log}")
        r = _psql(f'alter database "{building}" rename to "{name}"')
        if r.returncode != 0:
            die(f"renaming {building} to {name}: {r.stderr.strip()}")
        fs = filestore(building)
        if fs.is_dir():
            fs.rename(filestore(name))
        else:
            filestore(name).mkdir(parents=True, exist_ok=True)
    return name


def clone_db(template: str, db: str) -> None:
    """createdb -T, plus the filestore (what Odoo's own database duplication does)."""
    with file_lock(TEMPLATE_LOCK, "the template database"):
        r = subprocess.run(["createdb", "-T", template, db], text=True, capture_output=True)
        if r.returncode != 0:
            die(f"createdb -T {template} {db}: {r.stderr.strip()}")
        dst = filestore(db)
        shutil.rmtree(dst, ignore_errors=True)
        if filestore(template).is_dir():
            shutil.copytree(filestore(template), dst)


def prepare(src: Path, addon: Path, timings: dict[str, float]) -> str:
    """Everything before Odoo runs: venv, posbridge, addon, PostgreSQL, template."""
    with timed("Odoo virtualenv", timings):
        venv_key = ensure_venv(src)
    with timed("posbridge build + install", timings):
        install_posbridge()
    with timed("addon wheel + install", timings):
        install_addon(addon)
    with timed("PostgreSQL check", timings):
        ensure_postgres()
    with timed("template database", timings):
        return ensure_template(src, venv_key, timings)
