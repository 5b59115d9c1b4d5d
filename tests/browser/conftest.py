"""Fixtures for the browser tests: a private JupyterLab on 127.0.0.1 and Debian's headless Chromium.

``jupyterlab`` (once per session) makes a learner's working copy in a temporary folder, with
every exercise finished (see ``finish_exercises``), and starts ``python -m jupyterlab`` on it with
a random token, on 127.0.0.1 only, with its configuration, settings and runtime files in the
same temporary folder. ``browser`` (once per session) launches ``/usr/bin/chromium`` through
Playwright for Python, headless, with a fresh profile. ``lab`` (per test) is a
:class:`LabPage`: a browser tab plus the few JupyterLab actions the tests need.

Everything is shut down however the tests end: the server is asked to shut down through its
API (which stops its kernels), then its process group is terminated, then any kernel it started
that is still alive is terminated by its process id.

The browser tests skip, with the commands to install what is missing, when Chromium or
Playwright is not installed. Nothing here downloads a browser. ``CNN_COURSE_CHROMIUM`` names
another Chromium binary if it is not at /usr/bin/chromium.

Artifacts go to test-artifacts/browser/ (git-ignored): the widget screenshots, the server's log
``jupyterlab.log`` and, for a failed test, ``FAILED-<test>.png`` (the whole page) and the
browser console.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cnn_helpers.course import kernel_environment

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = Path(os.environ.get("CNN_COURSE_CHROMIUM", "/usr/bin/chromium"))
# The flags matter on a closed network: no sandbox (CI runs as root), no GPU, and no background
# requests (QUIC, component updates, sync) that would wait for a network that is not there.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    "install what is missing: `apt-get install chromium` (Debian's Chromium, as root) and "
    "`.venv/bin/python -m pip install playwright` (Playwright for Python; no `playwright install`, "
    "the tests use the system Chromium)"
)
SERVER_START_TIMEOUT = 90  # seconds until /api/status answers
WIDGET_ERROR_TEXTS = (
    "Error displaying widget",
    "Error creating widget",
    "model not found",
    "could not find model",
)

# JupyterLab user settings for the test server: no news or update checks (closed network) and
# every notebook cell attached to the page, so a widget below the fold is rendered too.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


# --------------------------------------------------------------------------------------------
# What must be installed


def _require_browser_tools():
    """Skip with install instructions unless Chromium and Playwright for Python are installed."""
    missing = []
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        missing.append(f"Chromium (expected at {CHROMIUM})")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append(f"Playwright for Python (not importable from {sys.executable})")
    if missing:
        pytest.skip(f"browser test needs {' and '.join(missing)}; {INSTALL_HINT}")


# --------------------------------------------------------------------------------------------
# The learner's working copy


def finish_exercises(notebook_path: Path, solutions_dir: Path) -> list[str]:
    """Put the solution edition's code into each exercise cell of a learner working copy.

    The result is what a learner who finished every exercise has: the learner edition, cell for
    cell, with each stub replaced by the solution's exercise cell (matched by its
    ``exercise-L.K`` tag). Returns the exercise ids filled in.

    (``editions.grading_copy(solution, submission)`` does the opposite swap, the learner's code
    into the pristine solution edition, which is what grading needs; here the page a learner
    sees must be the learner edition.)
    """
    from cnn_helpers.course import editions

    solution_path = Path(solutions_dir) / Path(notebook_path).name
    if not solution_path.exists():
        return []
    solution_cells = {}
    for cell in editions.read(solution_path).cells:
        role = editions.cell_role(cell)
        if role and role[0] == "exercise":
            solution_cells[role[1]] = cell.source
    learner = editions.read(notebook_path)
    filled = []
    for cell in learner.cells:
        role = editions.cell_role(cell)
        if role and role[0] == "exercise" and role[1] in solution_cells:
            cell.source = solution_cells[role[1]]
            filled.append(role[1])
    editions.write(learner, notebook_path)
    return filled


# --------------------------------------------------------------------------------------------
# The JupyterLab server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LabServer:
    """A JupyterLab server started by the tests, on 127.0.0.1 with a random token."""

    def __init__(self, root_dir: Path, home: Path, log_path: Path):
        self.root_dir = Path(root_dir)
        self.port = _free_port()
        self.token = secrets.token_hex(24)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process = None
        self._log = None
        self._children = set()
        self.env = self._environment(Path(home))

    def _environment(self, home: Path) -> dict:
        """Keep the server's configuration, settings, workspaces and runtime files private."""
        settings = home / "lab-settings"
        for relative, values in LAB_SETTINGS.items():
            path = settings / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values, indent=2), encoding="utf-8")
        env = kernel_environment()  # one BLAS thread: the numbers the notebooks store
        env.update(
            {
                "JUPYTER_CONFIG_DIR": str(home / "config"),
                "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
                "JUPYTERLAB_SETTINGS_DIR": str(settings),
                "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
                "JUPYTER_DATA_DIR": str(home / "data"),  # the venv's kernel and widget extension still count
                "IPYTHONDIR": str(home / "ipython"),
                "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                # The kernel is this Python's: the one with the course installed.
                "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
                "PYTHONUNBUFFERED": "1",
            }
        )
        for name in ("JUPYTER_TOKEN", "JUPYTER_PATH", "JUPYTER_PREFER_ENV_PATH"):
            env.pop(name, None)
        return env

    def command(self) -> list[str]:
        # (``IdentityProvider.token`` is the current name of ``ServerApp.token``, deprecated in
        # jupyter_server 2.) CI runs as root, which JupyterLab refuses without --allow-root.
        as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        return [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            *as_root,
        ]

    def start(self):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 -- the server writes to it until shutdown() closes it
        # A session of its own, so the whole process group can be terminated at the end.
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.root_dir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"JupyterLab exited with code {self.process.returncode} before answering; "
                    f"its log:\n{self.log_tail()}"
                )
            try:
                status = self.api("GET", "/api/status", timeout=2)
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                time.sleep(0.25)
                continue
            if isinstance(status, dict) and "started" in status:
                return self
            time.sleep(0.25)
        raise RuntimeError(
            f"JupyterLab did not answer /api/status within {SERVER_START_TIMEOUT} s; "
            f"its log:\n{self.log_tail()}"
        )

    def api(self, method: str, path: str, timeout: float = 10):
        """Call the server's REST API with the token; return the decoded JSON (or None)."""
        request = urllib.request.Request(
            f"{self.url}{path}{'&' if '?' in path else '?'}token={self.token}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
            data=b"" if method in ("POST", "PUT") else None,
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body.strip() else None

    def lab_url(self, path: str) -> str:
        """JupyterLab showing only ``path`` (``reset``: do not reopen the tabs of an earlier test)."""
        return f"{self.url}/lab/tree/{path}?reset&token={self.token}"

    def log_tail(self, n_chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-n_chars:]
        except OSError:
            return "(no log)"

    def remember_children(self):
        """Note the processes the server started (kernels run in sessions of their own)."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            import psutil

            self._children.update(psutil.Process(self.process.pid).children(recursive=True))
        except Exception:  # psutil missing or the process just exited: the API shutdown still stops kernels
            pass

    def shutdown_kernels(self):
        """Stop every kernel of the server (between tests, to keep memory down)."""
        self.remember_children()
        try:
            for session in self.api("GET", "/api/sessions") or []:
                self.api("DELETE", f"/api/sessions/{session['id']}")
            for kernel in self.api("GET", "/api/kernels") or []:
                self.api("DELETE", f"/api/kernels/{kernel['id']}")
        except (urllib.error.URLError, OSError):
            pass

    def stop(self):
        if self.process is None:
            return
        self.remember_children()
        if self.process.poll() is None:
            try:
                self.api("POST", "/api/shutdown", timeout=5)
                self.process.wait(timeout=15)
            except (urllib.error.URLError, OSError, subprocess.TimeoutExpired):
                pass
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            if self.process.poll() is not None:
                break
            try:
                os.killpg(self.process.pid, sig)  # the server's own process group (its session)
            except ProcessLookupError:
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=wait)
        for child in self._children:  # kernels left behind, by their process id
            _terminate(child)
        if self._log is not None:
            self._log.close()


def _exactly(text: str) -> re.Pattern:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def _terminate(process):
    """Terminate a ``psutil.Process`` the server started, if it still runs (psutil checks that
    the process id was not reused by another process)."""
    try:
        process.terminate()
        process.wait(timeout=5)
    except Exception:  # already gone, or refused to stop in time
        with contextlib.suppress(Exception):
            process.kill()


@pytest.fixture(scope="session")
def working_copy(tmp_path_factory):
    """A learner's working copy (``sync_workspace``) with every exercise finished."""
    _require_browser_tools()
    from cnn_helpers.course import NOTEBOOKS_DIR
    from cnn_helpers.course.workspace import sync_workspace

    work = tmp_path_factory.mktemp("work")
    sync_workspace(work)
    for notebook in sorted(work.glob("[0-9][0-9]-*.ipynb")):
        finish_exercises(notebook, NOTEBOOKS_DIR / "solutions")
    return work


@pytest.fixture(scope="session")
def jupyterlab(working_copy, tmp_path_factory):
    """A JupyterLab server on the working copy; shut down at the end of the session."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for stale in ARTIFACTS.glob("FAILED-*"):  # from an earlier session
        stale.unlink()
    server = LabServer(working_copy, tmp_path_factory.mktemp("jupyter-home"), ARTIFACTS / "jupyterlab.log")
    try:
        yield server.start()
    finally:
        server.stop()


# --------------------------------------------------------------------------------------------
# The browser


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Headless Debian Chromium through Playwright, with a fresh profile; closed at the end."""
    _require_browser_tools()
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    context = None
    try:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            device_scale_factor=1,
        )
        context.set_default_timeout(30_000)
        yield context
    finally:
        if context is not None:
            context.close()
        playwright.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def lab(request, jupyterlab, browser):
    """A fresh browser tab on the test server; screenshot of the page kept if the test fails."""
    page = browser.new_page()
    console = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    helper = LabPage(page, jupyterlab, console)
    try:
        yield helper
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = request.node.name.replace("/", "_")
            with contextlib.suppress(Exception):
                page.screenshot(path=str(ARTIFACTS / f"FAILED-{name}.png"), full_page=True)
            (ARTIFACTS / f"FAILED-{name}-console.txt").write_text("\n".join(console), encoding="utf-8")
        page.close()
        jupyterlab.shutdown_kernels()


# --------------------------------------------------------------------------------------------
# JupyterLab actions

# The status bar's kernel item: "Python 3 (ipykernel) | Idle" (or "No Kernel | Initializing").
KERNEL_STATUS_JS = """() => {
    const item = document.querySelector('#jp-main-statusbar .jp-StatusBar-TextItem[title^="Change kernel"]');
    return item === null ? null : item.textContent.trim();
}"""


class LabPage:
    """A browser tab showing JupyterLab, with the actions the widget tests need."""

    def __init__(self, page, server: LabServer, console: list):
        self.page = page
        self.server = server
        self.console = console

    # ---- notebooks

    def open_notebook(self, name: str, timeout_s: float = 90):
        """Open ``name`` from the working copy and wait until its kernel is idle."""
        self.page.goto(self.server.lab_url(name))
        panel = self.page.locator(".jp-NotebookPanel").first
        panel.wait_for(state="visible", timeout=timeout_s * 1000)
        self.page.locator(".jp-Notebook .jp-Cell").first.wait_for(state="visible", timeout=timeout_s * 1000)
        self.wait_for_kernel_idle(timeout_s)
        tabs = self.page.locator(".jp-NotebookPanel").count()
        assert tabs == 1, f"expected {name} as the only open notebook, found {tabs} notebook tabs"

    def kernel_status(self) -> str | None:
        """The notebook's kernel status as the status bar shows it ("Idle", "Busy", ...), or None."""
        text = self.page.evaluate(KERNEL_STATUS_JS)
        if not text or "|" not in text or text.startswith("No Kernel"):
            return None
        return text.rsplit("|", 1)[1].strip()

    def wait_for_kernel_idle(self, timeout_s: float = 90):
        """Wait until a kernel is connected to the notebook and idle.

        The toolbar's execution indicator says "idle" before any kernel is attached, and Run All
        in that state silently runs nothing; the status bar's "<kernel> | Idle" is reliable.
        """
        self.page.wait_for_function(
            f"() => {{ const text = ({KERNEL_STATUS_JS})(); "
            "return text !== null && !text.startsWith('No Kernel') && /\\|\\s*Idle$/.test(text); }",
            timeout=timeout_s * 1000,
        )

    def click_menu(self, *labels: str):
        """Click through the main menu by exact labels, e.g. ``click_menu("Run", "Run All Cells")``."""
        top, *rest = labels
        self.page.locator("#jp-MainMenu .lm-MenuBar-item", has_text=_exactly(top)).first.click()
        for label in rest:
            menu = self.page.locator(".lm-Menu").last
            item = menu.locator(".lm-Menu-item:not(.lm-mod-hidden)").filter(
                has=self.page.locator(".lm-Menu-itemLabel", has_text=_exactly(label))
            )
            item.first.click()

    def focus_notebook(self):
        """Put the notebook in command mode with focus, so notebook commands apply to it."""
        self.page.locator(".jp-NotebookPanel .jp-Notebook").first.click(position={"x": 5, "y": 5})
        self.page.keyboard.press("Escape")

    def run_all_cells(self, timeout_s: float = 180, before_run=None) -> list[str]:
        """Edit > Clear Outputs of All Cells, then Run > Run All Cells; wait until the run ends.

        Clearing first means every prompt number and output on the page comes from this run
        (a learner edition keeps the stored outputs of its demonstration cells).
        ``before_run``, if given, is called between the two (e.g. :meth:`watch_images`).
        """
        self.focus_notebook()
        self.click_menu("Edit", "Clear Outputs of All Cells")
        self.page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt'))"
            ".every(e => !/[0-9*]/.test(e.textContent))",
            timeout=30_000,
        )
        if before_run is not None:
            before_run()
        self.click_menu("Run", "Run All Cells")
        self.page.wait_for_function(  # the run has started: the first code cell is queued or done
            "() => { const e = document.querySelector('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt');"
            " return e !== null && /[0-9*]/.test(e.textContent); }",
            timeout=30_000,
        )
        return self.wait_until_run_finished(timeout_s)

    def cell_prompts(self) -> list[str]:
        return self.page.eval_on_selector_all(
            ".jp-Notebook .jp-CodeCell .jp-InputArea-prompt",
            "elements => elements.map(e => e.textContent.trim())",
        )

    def wait_until_run_finished(self, timeout_s: float = 180) -> list[str]:
        """Wait until no cell is queued or running and the kernel is idle (for a second)."""
        deadline = time.monotonic() + timeout_s
        quiet_since = None
        while time.monotonic() < deadline:
            prompts = self.cell_prompts()
            if prompts and not any("*" in p for p in prompts) and self.kernel_status() == "Idle":
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= 1.0:  # let the last outputs and widget views attach
                    return prompts
            else:
                quiet_since = None
            time.sleep(0.25)
        raise AssertionError(f"cells still running after {timeout_s} s: prompts {self.cell_prompts()}")

    def error_outputs(self) -> list[str]:
        """The text of every error (traceback) output in the notebook."""
        return self.page.eval_on_selector_all(
            ".jp-Notebook .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
            "elements => elements.map(e => e.innerText)",
        )

    def assert_all_cells_ran(self):
        """Every code cell ran in this run (has a prompt number) and none printed a traceback."""
        errors = [text for text in self.error_outputs() if "Traceback" in text or "Error" in text]
        prompts = self.cell_prompts()
        not_run = [i for i, p in enumerate(prompts) if not any(ch.isdigit() for ch in p)]
        if errors:
            last_lines = ["\n".join(text.strip().splitlines()[-4:]) for text in errors]
            raise AssertionError(
                f"running the lesson stopped at an error ({len(not_run)} code cells did not run); "
                "the end of each traceback:\n" + "\n---\n".join(last_lines)
            )
        assert not not_run, f"code cells {not_run} (0-based, code cells only) did not run; prompts: {prompts}"

    def watch_images(self, cell_indices):
        """Record every distinct image shown in the outputs of these cells (0-based, all cells).

        A figure updated in place (``display(fig, display_id=True)`` then ``handle.update``)
        replaces its ``<img>``; a MutationObserver in the page catches every version, however
        fast the updates come. Read the count with :meth:`watched_image_count`.
        """
        self.page.evaluate(
            """indices => {
                const seen = new Set();
                window.__cnnWatchedImages = seen;
                const record = () => {
                    const cells = document.querySelectorAll('.jp-Notebook .jp-Cell');
                    for (const index of indices) {
                        const cell = cells[index];
                        if (!cell) continue;
                        for (const img of cell.querySelectorAll('.jp-OutputArea img')) {
                            if (img.src) seen.add(img.src.length + ':' + img.src.slice(-64));
                        }
                    }
                };
                const notebook = document.querySelector('.jp-NotebookPanel .jp-Notebook');
                new MutationObserver(record).observe(notebook, {subtree: true, childList: true,
                                                                attributes: true, attributeFilter: ['src']});
            }""",
            list(cell_indices),
        )

    def watched_image_count(self) -> int:
        return self.page.evaluate("() => window.__cnnWatchedImages ? window.__cnnWatchedImages.size : 0")

    def cell(self, index: int):
        """The cell at ``index`` (0-based, counting markdown cells too), scrolled into view."""
        cell = self.page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)
        cell.scroll_into_view_if_needed()
        return cell

    # ---- widgets

    def widget(self, css_class: str, index: int = 0, timeout_s: float = 30):
        """The rendered widget container with CSS class ``css_class``, scrolled into view."""
        locator = self.page.locator(f".jp-OutputArea .{css_class}")
        try:
            locator.nth(index).wait_for(state="visible", timeout=timeout_s * 1000)
        except Exception as error:
            raise AssertionError(
                f"no rendered widget with class {css_class!r} on the page ({error.__class__.__name__}); "
                f"widget errors on the page: {self.widget_errors() or 'none'}"
            ) from None
        element = locator.nth(index)
        element.scroll_into_view_if_needed()
        return element

    def widget_errors(self) -> list[str]:
        text = self.page.locator("body").inner_text()
        return [message for message in WIDGET_ERROR_TEXTS if message in text]

    def assert_no_widget_errors(self):
        errors = self.widget_errors()
        assert not errors, f"the page shows widget errors: {errors}"

    def image_digest(self, image_locator, timeout_s: float = 30) -> tuple[str, int]:
        """SHA-256 and size of the bytes an ``<img>`` shows (ipywidgets.Image uses a blob: URL)."""
        image_locator.wait_for(state="visible", timeout=timeout_s * 1000)
        self.page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0",
            arg=image_locator.element_handle(),
            timeout=timeout_s * 1000,
        )
        encoded = image_locator.evaluate(
            """async img => {
                const response = await fetch(img.src);
                const bytes = new Uint8Array(await response.arrayBuffer());
                let text = '';
                for (let i = 0; i < bytes.length; i += 0x8000) {
                    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
                }
                return btoa(text);
            }"""
        )
        data = base64.b64decode(encoded)
        return hashlib.sha256(data).hexdigest(), len(data)

    def wait_for_new_image(
        self, image_locator, before: str, timeout_s: float = 30, settle_s: float = 1.0
    ) -> tuple[str, int]:
        """Wait until the ``<img>`` shows bytes other than ``before`` (a SHA-256), then settle.

        One control change can send several redraws (a slider moved three steps sends three),
        and the text next to the figure can arrive before the last one; so after the first
        change this waits until the bytes have not changed for ``settle_s`` seconds.
        """
        deadline = time.monotonic() + timeout_s
        digest, size = self.image_digest(image_locator)
        while digest == before:
            if time.monotonic() > deadline:
                raise AssertionError(f"the widget's figure did not change within {timeout_s} s")
            time.sleep(0.2)
            digest, size = self.image_digest(image_locator)
        stable_since = time.monotonic()
        while time.monotonic() - stable_since < settle_s and time.monotonic() < deadline:
            time.sleep(0.2)
            latest, latest_size = self.image_digest(image_locator)
            if latest != digest:
                digest, size, stable_since = latest, latest_size, time.monotonic()
        return digest, size

    def screenshot(self, element, name: str, publish_as: str | None = None) -> Path:
        """Save a screenshot of ``element`` under test-artifacts/browser/.

        With ``UPDATE_SCREENSHOTS=1`` in the environment, ``publish_as`` also copies it to
        docs/screenshots/ (the README's pictures).
        """
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        # No focus ring or hover highlight in the picture (blurring commits nothing new: the
        # tests press Enter or use the keyboard on sliders, which already sent the value).
        self.page.mouse.move(0, 0)
        self.page.evaluate("() => document.activeElement && document.activeElement.blur()")
        element.screenshot(path=str(path), animations="disabled")
        if publish_as and os.environ.get("UPDATE_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, SCREENSHOTS / f"{publish_as}.png")
        return path
