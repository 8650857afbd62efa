"""What `make test-odoo` and `make odoo-demo` share, per Odoo series: Odoo's virtualenv,
posbridge and the addon installed into it as a user installs them, PostgreSQL, and a cached
template database.

Standard library only: it runs under the project's .venv python, and drives Odoo's own venv
(.venv-odoo/) and the PostgreSQL command-line tools as subprocesses.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import hashlib
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parent.parent
STATE_ROOT = ROOT / ".venv-odoo"  # per series: Odoo's virtualenv and the runner's wheels; gitignored
LOGS = ROOT / "tests_odoo" / "logs"  # gitignored
ADDONS = ROOT / "odoo_addon"  # <series>/posbridge: the addon Odoo loads (odoo_addon/SERIES.md)
ADDON_NAME = "posbridge"
#: The addons of the repository, each after what it depends on; a series folder holds some or all.
ADDON_NAMES = ("posbridge", "pos_posbridge")
DIST = ROOT / "dist"  # make wheelhouse
#: Where the Odoo trees are, one folder per series (../shared/odoo/18.0, ...).
TREES = Path(os.environ.get("ODOO_TREES") or ROOT.parent / "shared" / "odoo")
#: Versions pip must not pick in Odoo's virtualenv (tests_odoo/constraints.txt says why).
CONSTRAINTS = ROOT / "tests_odoo" / "constraints.txt"

# What the template database has installed before the addon: its dependencies and more.
TEMPLATE_MODULES = "sale_management,account_payment"
# Bump when what goes into the template changes in a way its key does not see.
TEMPLATE_FORMAT = "1"
TEMPLATE_PREFIX = "posbridge_tmpl_"

# PostgreSQL and Odoo's data dir are per machine, not per work tree: so is the template's lock.
TEMPLATE_LOCK = Path(tempfile.gettempdir()) / "posbridge-odoo-template.lock"
# A template another work tree cloned from within this many seconds is not dropped as stale.
TEMPLATE_KEEP_S = 3600


#: A log line that fails a run: an error; a warning that Odoo ignored something an addon declares
#: (19.0 drops `_sql_constraints` with a warning only, and then every webhook fails); a Python
#: warning (a deprecation) raised in posbridge's own code.
BAD_LOG_LINE = re.compile(
    r"^\S+ \S+ \d+ (ERROR|CRITICAL) "
    r"|^\S+ \S+ \d+ WARNING .*is no longer supported"
    r"|^\S+ \S+ \d+ WARNING \S+ py\.warnings: .*/addons/posbridge/"
)


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


def clean_env(venv: Path) -> dict[str, str]:
    """The environment for Odoo's venv `venv`: the Makefile exports VIRTUAL_ENV=.venv."""
    env = dict(os.environ)
    for k in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX"):
        env.pop(k, None)
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run(cmd: list[str], *, quiet: bool = True, **kw: object) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure print its output and exit."""
    kw.setdefault("env", clean_env(Path(cmd[0]).parent.parent))
    p = subprocess.run(cmd, text=True, capture_output=quiet, **kw)  # type: ignore[call-overload]
    if p.returncode != 0:
        if quiet:
            sys.stderr.write(p.stdout[-8000:] + p.stderr[-8000:])
        die(f"command failed ({p.returncode}): {' '.join(map(str, cmd))}")
    return p  # type: ignore[no-any-return]


def addon_series() -> list[str]:
    """The series the addon has a folder for (odoo_addon/18.0, ...), oldest first."""
    names = [p.name for p in ADDONS.iterdir() if re.fullmatch(r"\d+\.0", p.name) and p.is_dir()]
    return sorted(names, key=float)


@dataclass(frozen=True)
class Series:
    """One Odoo series: its tree, and what the runners keep for it (odoo_addon/SERIES.md)."""

    name: str  # "18.0"
    src: Path  # the tree holding odoo-bin

    @property
    def major(self) -> int:
        return int(self.name.split(".")[0])

    @property
    def addon(self) -> Path:
        return ADDONS / self.name / ADDON_NAME

    @property
    def addon_names(self) -> list[str]:
        """The repository's addons this series has (odoo_addon/<series>/<addon>)."""
        return [name for name in ADDON_NAMES if (ADDONS / self.name / name / "__manifest__.py").is_file()]

    @property
    def template_modules(self) -> str:
        """What the template database has installed before the addons: their dependencies."""
        return TEMPLATE_MODULES + (",point_of_sale" if "pos_posbridge" in self.addon_names else "")

    @property
    def state(self) -> Path:
        return STATE_ROOT / self.name

    @property
    def venv(self) -> Path:
        return self.state / "venv"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def wheels(self) -> Path:
        return self.state / "wheels"

    @property
    def template_prefix(self) -> str:
        return f"{TEMPLATE_PREFIX}{self.major}_"

    @property
    def with_demo(self) -> list[str]:
        """odoo-bin's options for a new database with demo data: 19.0 makes none by default."""
        return ["--with-demo"] if self.major >= 19 else []

    @property
    def without_demo(self) -> list[str]:
        """odoo-bin's options for a new database without: 19.0 warns about --without-demo."""
        return [] if self.major >= 19 else ["--without-demo=all"]

    @property
    def groups_field(self) -> str:
        """The groups field of res.users and of actions: 19.0 renamed groups_id to group_ids."""
        return "group_ids" if self.major >= 19 else "groups_id"

    def export_pot(self, db: str, out: Path, addon: str = ADDON_NAME) -> list[str]:
        """odoo-bin's command that writes `addon`'s .pot to `out`: 19.0 made the export a
        subcommand (18.0: --i18n-export)."""
        if self.major >= 19:
            return [str(self.python), str(self.src / "odoo-bin"), "i18n", "export", "-d", db, "-o", str(out), addon]
        return [str(self.python), str(self.src / "odoo-bin"), "-d", db, f"--i18n-export={out}",
                f"--modules={addon}", "--stop-after-init", "--http-port", str(free_port())]

    def requirements(self) -> Path:
        """requirements-<major>.txt beside the tree (shared/odoo), else the tree's own."""
        for cand in (self.src.parent / f"requirements-{self.major}.txt", self.src / "requirements.txt"):
            if cand.is_file():
                return cand
        die(f"no requirements-{self.major}.txt beside {self.src} nor requirements.txt in it")


def tree_of(series: str, override: str | None = None) -> Path | None:
    """The Odoo tree of `series`: `override`, else $ODOO_SRC_<major> (e.g. ODOO_SRC_19), else
    $ODOO_TREES/<series> (default ../shared/odoo/<series>); None when it has no odoo-bin."""
    src = override or os.environ.get(f"ODOO_SRC_{series.split('.')[0]}")
    path = Path(src) if src else TREES / series
    return path.resolve() if (path / "odoo-bin").is_file() else None


def present_series() -> list[str]:
    """The addon's series whose Odoo tree is here, oldest first."""
    return [s for s in addon_series() if tree_of(s)]


def series(name: str | None, odoo_src: str | None = None) -> Series:
    """The series to run: `name`, else the newest one whose tree is here."""
    known = addon_series()
    if not name:
        present = present_series()
        if not present:
            die(f"no Odoo tree for any of the addon's series ({', '.join(known)}) in {TREES}: "
                "set ODOO_TREES, or ODOO_SRC_<major>")
        name = present[-1]
    if name not in known:
        die(f"the addon has no {name} folder (odoo_addon/{name}); it has {', '.join(known)}")
    src = tree_of(name, odoo_src)
    if src is None:
        die(f"no Odoo {name} tree: none at {odoo_src or TREES / name} (set ODOO_TREES, or ODOO_SRC_{name.split('.')[0]})")
    found = re.search(r"version_info = \((\d+), (\d+)", (src / "odoo" / "release.py").read_text())
    if found and f"{found[1]}.{found[2]}" != name:
        die(f"{src} is Odoo {found[1]}.{found[2]}, not {name}")
    return Series(name, src)


# ---------------------------------------------------------------- Odoo's virtualenv


def ensure_venv(series: Series) -> str:
    """Odoo's virtualenv for `series`, made once per requirements file (and base Python);
    returns its key."""
    req = series.requirements()
    key = hashlib.sha256(
        req.read_bytes() + CONSTRAINTS.read_bytes()
        + f"\n{sys.version}\n{sys.base_prefix}\nvenv-format-2".encode()
    ).hexdigest()[:16]
    venv = series.venv
    stamp = venv / ".posbridge-key"
    with file_lock(series.state / "venv.lock", f"Odoo {series.name}'s virtualenv"):
        if series.python.exists() and stamp.exists() and stamp.read_text().strip() == key:
            say(f"virtualenv {venv.relative_to(ROOT)} is up to date ({req.name}, key {key})")
            return key
        say(f"creating {venv.relative_to(ROOT)} from {req} (key {key}) ...")
        shutil.rmtree(venv, ignore_errors=True)
        series.state.mkdir(parents=True, exist_ok=True)
        base_py = getattr(sys, "_base_executable", None) or sys.executable
        run([base_py, "-m", "venv", str(venv)])
        pip = [str(series.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        run([*pip, "setuptools<70", "wheel"])
        run([*pip, "-r", str(req), "-c", str(CONSTRAINTS)])
        check_gevent(series)
        stamp.write_text(key + "\n")  # last: an interrupted creation is redone
    return key


def check_gevent(series: Series) -> None:
    """Odoo's prefork server runs its websocket process as `odoo-bin gevent`, whose
    gevent.monkey.patch_all() resolves gevent's requirements through pkg_resources: a venv where
    that fails has a websocket process that dies at start (tests_odoo/constraints.txt)."""
    probe = "import pkg_resources as p; p.require('gevent')"
    r = subprocess.run([str(series.python), "-W", "ignore", "-c", probe], capture_output=True,
                       text=True, cwd="/", env=clean_env(series.venv))
    if r.returncode != 0:
        die(f"{series.venv}: gevent's requirements do not resolve, Odoo's websocket process would "
            f"crash: {r.stderr.strip().splitlines()[-1:]}")


# ---------------------------------------------------------------- posbridge and the addon


def posbridge_wheel() -> Path:
    """posbridge's portable wheel for this machine's architecture, the one `make wheelhouse`
    built into dist/ (manylinux_2_17, abi3): the Odoo tests install what users install."""
    arch = platform.machine()
    wheels = sorted(DIST.glob(f"posbridge-*-cp310-abi3-*manylinux_2_17_{arch}*.whl"))
    if len(wheels) != 1:
        die(f"expected one portable posbridge wheel for {arch} in {DIST}, found {[w.name for w in wheels]}: "
            "run `make wheelhouse` (make test-odoo does)")
    sources = [ROOT / "Cargo.toml", ROOT / "Cargo.lock", ROOT / "pyproject.toml",
               *(ROOT / "src").rglob("*"), *(ROOT / "python").rglob("*.py*")]
    newest = max(p.stat().st_mtime for p in sources if p.is_file())
    if wheels[0].stat().st_mtime < newest:
        die(f"{wheels[0].relative_to(ROOT)} is older than the sources: run `make wheelhouse`")
    return wheels[0]


def install_posbridge(series: Series, wheel: Path) -> None:
    """posbridge into `series`' Odoo virtualenv, from `wheel`, as a user installs it."""
    pip = [str(series.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run([*pip, "--force-reinstall", "--no-deps", str(wheel)])
    p = run([str(series.python), "-c", "import posbridge; print(posbridge.__version__)"], cwd="/")
    say(f"posbridge {p.stdout.strip()} installed into {series.venv.relative_to(ROOT)} ({wheel.name})")


def git_files(addon: Path, *extra: str) -> list[str]:
    p = subprocess.run(
        ["git", "ls-files", *extra, "."], cwd=addon, text=True, capture_output=True
    )
    return [f for f in p.stdout.splitlines() if f] if p.returncode == 0 else []


def install_addons(series: Series) -> None:
    """Every addon of the series, as `install_addon` installs one."""
    for name in series.addon_names:
        install_addon(series, name)


def install_addon(series: Series, name: str = ADDON_NAME) -> None:
    """The addon as a user installs it: its whool wheel, `pip install --no-deps` (it requires
    odoo==<series>.*, and the Odoo tree is not a pip distribution)."""
    addon = ADDONS / series.name / name
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
    out = series.wheels / name
    shutil.rmtree(out, ignore_errors=True)
    pip = [str(series.python), "-m", "pip", "--disable-pip-version-check"]
    run([*pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(addon)])
    wheels = sorted(out.glob(f"odoo_addon_{name}-*.whl"))
    if len(wheels) != 1:
        die(f"expected one odoo_addon_{name} wheel in {out}, found {wheels}")
    with zipfile.ZipFile(wheels[0]) as z:
        names = z.namelist()
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        requires = re.findall(r"^Requires-Dist: (.+)$", z.read(meta).decode(), re.M)
    prefix = f"odoo/addons/{name}/"
    in_wheel = {n[len(prefix):] for n in names if n.startswith(prefix)}
    missing = sorted(set(tracked) - in_wheel - {"pyproject.toml"})
    if "__manifest__.py" not in in_wheel or missing:
        die(f"{wheels[0].name} lacks {missing or ['__manifest__.py']} (its files: {sorted(in_wheel)})")
    if not any(re.match(r"posbridge\b", r) for r in requires):
        die(f"{wheels[0].name} does not require posbridge (Requires-Dist: {requires})")
    if f"odoo=={series.name}.*" not in requires:
        die(f"{wheels[0].name} does not require odoo=={series.name}.* (Requires-Dist: {requires})")
    run([*pip, "install", "--quiet", "--force-reinstall", "--no-deps", str(wheels[0])])
    p = run(
        [str(series.python), "-c",
         f"import importlib.util as u; print(u.find_spec('odoo.addons.{name}').origin)"],
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


def odoo_cmd(series: Series, db: str, *args: str) -> list[str]:
    return [str(series.python), str(series.src / "odoo-bin"), "-d", db, "--db-filter",
            f"^{re.escape(db)}$", *args]


def ensure_template(series: Series, venv_key: str, timings: dict[str, float]) -> str:
    """A database with TEMPLATE_MODULES and demo data installed, keyed on the Odoo tree, the
    modules and the venv. Created under a temporary name and renamed when complete, so an
    existing template is a complete one. Returns its name."""
    key = hashlib.sha256(
        f"{tree_key(series.src)}|{series.template_modules}|demo|{venv_key}|{TEMPLATE_FORMAT}".encode()
    ).hexdigest()[:12]
    name = series.template_prefix + key
    if db_exists(name) and filestore(name).is_dir():
        say(f"template database {name} is up to date ({series.template_modules}, demo data)")
        return name
    with file_lock(TEMPLATE_LOCK, "the template database"):
        if db_exists(name) and filestore(name).is_dir():
            return name
        for old in databases(TEMPLATE_PREFIX + "%"):
            # this series' older templates, and those of the runner's earlier, unseried format;
            # not one that another work tree used within the hour (clone_db touches its filestore)
            if not (old.startswith(series.template_prefix) or not re.match(re.escape(TEMPLATE_PREFIX) + r"\d+_", old)):
                continue
            if filestore(old).is_dir() and time.time() - filestore(old).stat().st_mtime < TEMPLATE_KEEP_S:
                say(f"keeping template {old}: another work tree used it within the hour")
                continue
            say(f"dropping stale template {old}")
            drop_db(old)
        building = f"{name}_building"
        drop_db(building)
        say(f"creating template database {name} (Odoo {series.name}): {series.template_modules} with demo "
            "data (about 2-3 min) ...")
        LOGS.mkdir(parents=True, exist_ok=True)
        log = LOGS / f"{name}.log"
        with timed("template database init", timings), open(log, "w") as lf:
            # --test-enable with tags that select no test: Odoo's test mode, as the tests run in.
            p = subprocess.run(
                odoo_cmd(series, building, "-i", series.template_modules, *series.with_demo, "--stop-after-init",
                         "--test-enable", "--test-tags", f"/{ADDON_NAME}",
                         "--http-port", str(free_port()), "--log-level=warn"),
                stdout=lf, stderr=subprocess.STDOUT, env=clean_env(series.venv), cwd=ROOT,
            )
        text = log.read_text(errors="replace")
        bad = [ln for ln in text.splitlines() if BAD_LOG_LINE.search(ln)]
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
            os.utime(filestore(template))  # in use: ensure_template keeps it for a while


def install(series: Series, timings: dict[str, float]) -> str:
    """Odoo's virtualenv of `series` up to date, with posbridge and the addon installed as a user
    installs them; returns the virtualenv's key."""
    with timed(f"Odoo {series.name} virtualenv", timings):
        venv_key = ensure_venv(series)
    with timed("posbridge wheel + install", timings):
        install_posbridge(series, posbridge_wheel())
    with timed("addon wheels + install", timings):
        install_addons(series)
    return venv_key


def prepare(series: Series, timings: dict[str, float]) -> str:
    """Everything before Odoo runs: venv, posbridge, addon, PostgreSQL, template."""
    venv_key = install(series, timings)
    with timed("PostgreSQL check", timings):
        ensure_postgres()
    with timed("template database", timings):
        return ensure_template(series, venv_key, timings)
