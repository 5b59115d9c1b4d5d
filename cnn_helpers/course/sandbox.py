"""Run one grading harness (pytest + nbval) in a bubblewrap sandbox, and its kernel as another user.

Layout of one grading (Linux with ``bwrap``):

- the **sandbox** (``bwrap``): new PID, network, IPC and UTS namespaces (no network at all, only
  its own processes visible); the system folders, Python, the virtual environment and the course
  (package, data, released editions) mounted read-only; nothing of the instructor's HOME, class
  folder or gradebook; a private ``/tmp``; an environment allow-list. When the grader kills
  ``bwrap``, the PID namespace ends and the kernel kills every process left in it.
- the **harness** (pytest + nbval + :mod:`._recorder`) runs in the sandbox's private ``/grade``
  folder (mode 0700). It reads a one-time token from its stdin and reports the results as one
  line ``TOKEN JSON`` on its stdout, a pipe to the grader. Nothing is read back from a file.
- the **kernel** is started by :func:`launch_kernel` (``python -m cnn_helpers.course.sandbox
  kernel CONNECTION_FILE``): when the harness runs as root inside the sandbox (the instructor is
  root, or bwrap is set-uid), the kernel switches to an unprivileged user of its own, so it can
  neither write the harness's files nor signal or inspect its processes. Its stdin, stdout and
  stderr are not the result pipe, and resource limits (memory, processes, file size) apply.

Without user switching (an unprivileged instructor, where bwrap maps one user only) the token
still protects the result (the harness is not dumpable, so its memory and file descriptors are
closed to the kernel); the kernel could still kill its own harness, which only fails its own
notebook.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import resource
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from . import COURSE_ROOT, DETERMINISTIC_ENV

BWRAP = "bwrap"
KERNEL_HOME = "/tmp/learner"
HARNESS_DIR = "/grade"
DEFAULT_MEMORY_MB = 2048
DEFAULT_PROCESSES = 64
DEFAULT_FILE_SIZE_MB = 256
# Environment variables the harness and the kernel may see; everything else is dropped.
# The locale, and the machine's choice of BLAS kernel: OpenBLAS's kernel decides how sums are
# rounded, so a trained network prints the numbers the lesson stored only with the same kernel.
ALLOWED_ENV = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


class SandboxError(RuntimeError):
    """bubblewrap is missing or does not work here."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for the learner's kernel (and the processes it starts)."""

    memory_mb: int = DEFAULT_MEMORY_MB
    processes: int = DEFAULT_PROCESSES
    file_size_mb: int = DEFAULT_FILE_SIZE_MB


def _bwrap_path():
    return shutil.which(BWRAP)


@functools.lru_cache(maxsize=1)
def availability() -> tuple[bool, str]:
    """(True, "") when a bubblewrap sandbox can be started here, else (False, why not)."""
    if not sys.platform.startswith("linux"):
        return False, f"no sandbox on {sys.platform} (bubblewrap needs Linux)"
    path = _bwrap_path()
    if path is None:
        return False, "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt install bubblewrap)"
    try:
        probe = subprocess.run(
            [path, *_namespace_args(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, f"bwrap could not start: {error}"
    if probe.returncode != 0:
        return False, f"bwrap could not create a sandbox here: {probe.stderr.strip()[-300:]}"
    return True, ""


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _namespace_args() -> list[str]:
    args = [
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
    ]
    if _is_root():
        # Real root: no user namespace, so the kernel can become a different user. The harness
        # keeps only what it needs to start and stop that kernel.
        args += ["--cap-drop", "ALL"] + [
            a for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_CHOWN") for a in ("--cap-add", cap)
        ]
    else:
        args += ["--unshare-user"]
    return args


def _read_only_paths(extra=()) -> list[Path]:
    """System folders, Python, the venv, sys.path and the course's package, data and notebooks."""
    wanted = [Path(p) for p in ("/usr", "/etc", "/opt", "/lib", "/lib64", "/lib32", "/bin", "/sbin")]
    wanted += [Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).resolve().parent.parent]
    # not sys.path: its first entry may be the current folder (a class folder, say)
    wanted += [COURSE_ROOT / "cnn_helpers", COURSE_ROOT / "data", COURSE_ROOT / "notebooks"]
    wanted += [Path(p) for p in extra]
    real = []
    for path in wanted:
        try:
            if not path.exists():
                continue
        except OSError:  # not ours to read: the sandbox could not bind it either
            continue
        real.append(path.absolute())
    # keep the outermost of nested paths, in a stable order
    real = sorted(set(real), key=lambda p: (len(p.parts), str(p)))
    kept = []
    for path in real:
        if not any(path == k or k in path.parents for k in kept):
            kept.append(path)
    return kept


def sandbox_command(folder: Path, harness: list[str], env=None, extra_read_only=()) -> list[str]:
    """The bwrap command line that runs ``harness`` with the grader's ``folder`` read-only at /grade/in."""
    # The private /tmp comes first, so that a course or venv that lives under /tmp (a CI clone,
    # say) is bound on top of it rather than hidden by it.
    command = [_bwrap_path(), *_namespace_args(), "--hostname", "grader"]
    command += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
    binds = _read_only_paths(extra_read_only)
    parents = sorted(
        {parent for path in binds for parent in path.parents if parent != Path("/")},
        key=lambda p: len(p.parts),
    )
    for parent in parents:  # bwrap would create them 0700: the kernel's user could not reach Python
        command += ["--perms", "0755", "--dir", str(parent)]
    for path in binds:
        if path.is_symlink():
            command += ["--symlink", os.readlink(path), str(path)]
        else:
            command += ["--ro-bind", str(path), str(path)]
    command += [
        "--perms",
        "0700",
        "--tmpfs",
        HARNESS_DIR,
        "--ro-bind",
        str(folder),
        f"{HARNESS_DIR}/in",
        "--chdir",
        HARNESS_DIR,
        "--clearenv",
    ]
    for key, value in {**harness_environment(HARNESS_DIR), **(env or {})}.items():
        command += ["--setenv", key, value]
    for sub in ("home", "tmp", "runtime"):
        command += ["--perms", "0700", "--dir", f"{HARNESS_DIR}/{sub}"]
    return command + ["--", *harness]


def harness_environment(folder: str) -> dict:
    """The harness's whole environment: an allow-list, nothing inherited from the instructor."""
    env = {key: os.environ[key] for key in ALLOWED_ENV if key in os.environ}
    home = f"{folder}/home"
    env.update(DETERMINISTIC_ENV)
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "TMPDIR": f"{folder}/tmp",
            "IPYTHONDIR": f"{home}/.ipython",
            "JUPYTER_CONFIG_DIR": f"{home}/.jupyter",
            "JUPYTER_DATA_DIR": f"{home}/.local/share/jupyter",
            "JUPYTER_RUNTIME_DIR": f"{folder}/runtime",
            "JUPYTER_PLATFORM_DIRS": "1",
            "MPLCONFIGDIR": f"{home}/.matplotlib",
            "MPLBACKEND": "agg",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "CNN_COURSE_GRADING": "1",
        }
    )
    return env


def new_token() -> str:
    return secrets.token_hex(16)


# --------------------------------------------------------------------------------------------
# The kernel launcher (runs inside the sandbox, started by the harness through jupyter_client).


def _kernel_environment(home: str) -> dict:
    env = {key: os.environ[key] for key in (*ALLOWED_ENV, "PATH") if key in os.environ}
    env.update(DETERMINISTIC_ENV)
    env.update(
        {
            "HOME": home,
            "TMPDIR": f"{home}/tmp",
            "IPYTHONDIR": f"{home}/.ipython",
            "JUPYTER_CONFIG_DIR": f"{home}/.jupyter",
            "JUPYTER_DATA_DIR": f"{home}/.local/share/jupyter",
            "JUPYTER_RUNTIME_DIR": f"{home}/runtime",
            "JUPYTER_PLATFORM_DIRS": "1",
            "MPLCONFIGDIR": f"{home}/.matplotlib",
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "CNN_COURSE_GRADING": "1",
        }
    )
    return env


def _processes_of(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as handle:
                    uids = next(line for line in handle if line.startswith("Uid:")).split()
                count += int(uids[1]) == uid
            except (OSError, StopIteration, ValueError, IndexError):
                pass
    return count


def _set_limits(limits: Limits, own_user: bool) -> None:
    """Limits for the kernel. RLIMIT_NPROC counts every process of the kernel's user: with a user
    of its own that is the kernel's; otherwise the processes already running count too."""
    memory = limits.memory_mb * 1024 * 1024
    processes = limits.processes if own_user else limits.processes + _processes_of(os.getuid())
    for name, value in (
        ("RLIMIT_DATA", memory),
        ("RLIMIT_FSIZE", limits.file_size_mb * 1024 * 1024),
        ("RLIMIT_CORE", 0),
        ("RLIMIT_NPROC", processes),
        ("RLIMIT_NOFILE", 1024),
    ):
        if hasattr(resource, name):
            _soft, hard = resource.getrlimit(getattr(resource, name))
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(getattr(resource, name), (value, value))


def _no_new_privileges() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS: set-uid programs gain nothing
    except (OSError, AttributeError):
        pass


def _die_with_harness() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG SIGKILL (after setuid, which clears it)


def launch_kernel(connection_file: str) -> None:
    """Start an IPython kernel for the harness, as another user where possible; never returns."""
    limits = Limits(
        int(os.environ.get("CNN_COURSE_KERNEL_MEMORY_MB", DEFAULT_MEMORY_MB)),
        int(os.environ.get("CNN_COURSE_KERNEL_PROCESSES", DEFAULT_PROCESSES)),
        int(os.environ.get("CNN_COURSE_KERNEL_FILE_SIZE_MB", DEFAULT_FILE_SIZE_MB)),
    )
    uid = int(os.environ.get("CNN_COURSE_KERNEL_UID", "-1"))
    home = os.environ.get("CNN_COURSE_KERNEL_HOME") or os.path.join(
        os.path.dirname(connection_file), "kernel-home"
    )
    os.makedirs(os.path.join(home, "tmp"), mode=0o700, exist_ok=True)
    private = os.path.join(home, "connection.json")
    with open(connection_file, "rb") as source, open(private, "wb") as target:
        target.write(source.read())
    os.chmod(private, 0o600)
    if uid >= 0:
        for root, dirs, files in os.walk(home):
            for name in (root, *[os.path.join(root, n) for n in dirs + files]):
                os.chown(name, uid, uid)
    _set_limits(limits, own_user=uid >= 0)
    if uid >= 0:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # drops every capability
    _no_new_privileges()
    _die_with_harness()
    os.chdir(home)
    # stdin, stdout and stderr: never the harness's result pipe
    null = os.open(os.devnull, os.O_RDONLY)
    log = os.open(os.path.join(home, "kernel-output.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.closerange(3, 65536)
    os.execve(
        sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", private], _kernel_environment(home)
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "kernel":
        launch_kernel(sys.argv[2])
    raise SystemExit("usage: python -m cnn_helpers.course.sandbox kernel CONNECTION_FILE")
