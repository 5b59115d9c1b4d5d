"""A pytest plugin, loaded by the grader with ``-p``, that reports each nbval cell's outcome.

The results never pass through a file the learner's kernel could write. When the grader sets
``CNN_COURSE_GRADE_TOKEN_FD`` (always, when it runs the harness), the plugin reads a one-time
token from that descriptor (the harness's stdin, a pipe from the grader) as soon as it is loaded,
and at the end writes one line ``TOKEN JSON`` to a private duplicate of its stdout. The kernel
gets neither descriptor, cannot read the harness's memory (the harness is made non-dumpable) and
never learns the token, so anything it prints is ignored.

It also makes nbval's time limits hold against any kernel:

- the kernel starts through :func:`cnn_helpers.course.sandbox.launch_kernel` (another user inside
  the sandbox, resource limits, stdout not the result pipe);
- while a cell runs, the harness polls the kernel; a kernel that dies (crash, ``os._exit``, out of
  memory) fails the cell at once with ``KernelDied``, not after the cell's time limit;
- a cell still producing output ``GRACE`` seconds after its time limit and interrupt (code that
  catches ``KeyboardInterrupt``) has its kernel killed.
"""

import contextlib
import json
import os
import re
import sys
import time
from queue import Empty

import pytest

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
GRACE = 5.0
POLL = 0.25
KERNEL_DIED = "the kernel died (crash, os._exit or out of memory)"
_records = []
_token = None
_out = None


class KernelDied(RuntimeError):
    """The learner's kernel process ended while a cell ran."""


def _take_channel():
    global _token, _out
    fd = os.environ.get("CNN_COURSE_GRADE_TOKEN_FD")
    if fd is None:
        return
    fd = int(fd)
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 256)
        if not chunk:
            break
        data += chunk
    _token = data.decode("ascii", "replace").strip()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, fd)  # the pipe is gone from this process; the kernel inherits /dev/null
    os.close(null)
    _out = os.dup(1)  # not inheritable: the kernel never gets it
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: no /proc/PID/fd, mem, environ
    except (OSError, AttributeError):
        pass


_take_channel()


def _patch_nbval():
    from nbval import kernel as nbval_kernel

    spec_manager = nbval_kernel.NbvalKernelspecManager
    original_spec = spec_manager.get_kernel_spec

    def get_kernel_spec(self, kernel_name):
        spec = original_spec(self, kernel_name)
        spec.argv = [sys.executable, "-m", "cnn_helpers.course.sandbox", "kernel", "{connection_file}"]
        return spec

    spec_manager.get_kernel_spec = get_kernel_spec
    running = nbval_kernel.RunningKernel
    original_get = running.get_message

    def get_message(self, stream, timeout=None):
        deadline = getattr(self, "_cnn_deadline", None)
        if deadline is not None and time.monotonic() > deadline:
            self._cnn_deadline = None
            self._cnn_killed = True
            with contextlib.suppress(Exception):  # already dying or gone: nbval reports the time-out
                if hasattr(self.km, "kill_kernel"):
                    self.km.kill_kernel()
                else:
                    self.km.shutdown_kernel(now=True)
            raise Empty
        return original_get(self, stream, timeout=timeout)

    def await_reply(self, msg_id, timeout=None):
        started = time.monotonic()
        limit = float("inf") if timeout is None else float(timeout)
        self._cnn_deadline = None
        while True:
            left = started + limit - time.monotonic()
            if left <= 0:
                # nbval interrupts next; if the cell ignores that, get_message kills the kernel
                self._cnn_deadline = time.monotonic() + GRACE
                raise Empty
            try:
                msg = original_get(self, "shell", timeout=min(POLL, left))
            except Empty:
                if not self.km.is_alive():
                    raise KernelDied(KERNEL_DIED) from None
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                if msg["content"]["status"] == "aborted":
                    raise RuntimeError("Kernel aborted execution request")
                return

    running.get_message = get_message
    running.await_reply = await_reply


_patch_nbval()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    cell = getattr(item, "cell", None)
    if cell is None:
        return
    failed_setup = report.when == "setup" and not report.passed
    if report.when != "call" and not failed_setup:
        return
    parent = getattr(item, "parent", None)
    timed_out = bool(getattr(parent, "timed_out", False))
    kernel = getattr(parent, "kernel", None)
    passed = report.passed  # a cell after a time-out is marked xfail; if it still passes, it passed
    tags = cell.get("metadata", {}).get("tags", [])
    _records.append(
        {
            "cell_id": str(cell.get("id", "")),
            "cell_index": getattr(item, "cell_num", None),
            "tags": [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else [],
            "passed": bool(passed),
            "skipped_after_timeout": bool(hasattr(report, "wasxfail") and not passed),
            "timed_out": timed_out,
            "killed": bool(getattr(kernel, "_cnn_killed", False)),
            "detail": ANSI.sub("", str(report.longrepr)) if report.longrepr else "",
        }
    )


def pytest_sessionfinish(session, exitstatus):
    if _out is not None:
        line = f"\n{_token} {json.dumps(_records)}\n".encode()
        view = memoryview(line)
        while view:
            view = view[os.write(_out, view) :]
