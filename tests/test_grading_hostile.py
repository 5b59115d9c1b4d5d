"""A class of hostile, broken and honest learners, graded once through the command line (issue 13).

Every attack from the issue is a learner here. Attacks that probe the sandbox finish their
exercise cell with ``raise RuntimeError("PROBE {json}")``: the grader reports an error in an
exercise cell with its own type and message, so the probe's findings come back in the JSON report.
Honest learners sit before and after the attackers in grading order; their scores, files and
gradebook rows must come out right, and the instructor's HOME, environment, course files and
TMPDIR must be untouched, with no process of the run left behind.
"""

import copy
import csv
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnn_helpers.course import (
    COURSE_ROOT,
    NOTEBOOKS_DIR,
    SOLUTIONS_DIR,
    editions,
    sandbox,
)

pytestmark = [
    pytest.mark.notebooks,
    pytest.mark.skipif(not sandbox.availability()[0], reason=f"no sandbox here: {sandbox.availability()[1]}"),
]
LESSON = "01-images-as-data.ipynb"
CELL_TIMEOUT = 8
MARK = "cnn-hostile-" + secrets.token_hex(6)
SECRET_NAME, SECRET_VALUE = "CNN_COURSE_TEST_SECRET", "s3cret-" + secrets.token_hex(8)

SPY = """
import os, json, socket
found = {}
pids = [p for p in os.listdir('/proc') if p.isdigit()]
text = ''
for p in pids:
    for what in ('cmdline', 'environ'):
        try:
            text += open(f'/proc/{p}/{what}', 'rb').read().decode(errors='replace')
        except Exception:
            pass
found['sees_class'] = CLASS in text or os.path.exists(CLASS)
found['secret'] = SECRET in text or SECRET in str(dict(os.environ))
found['home_visible'] = os.path.exists(HOME)
try:
    socket.create_connection(('pypi.org', 443), timeout=3)
    found['net'] = True
except Exception:
    found['net'] = False
raise RuntimeError('PROBE ' + json.dumps(found, sort_keys=True))
"""

VANDAL = """
import os, json
def attempt(path, text):
    try:  # never creates folders: the sandbox's own /tmp would take them
        with open(path, 'r+' if path != STARTUP else 'a') as handle:
            handle.write(text)
        return 'written'
    except Exception as error:
        return type(error).__name__
STARTUP = HOME + '/.ipython/profile_default/startup/00-x.py'
found = {
    'classmate': attempt(CLASS + '/zoe/' + LESSON, ' '),
    'startup': attempt(STARTUP, 'raise SystemExit\\n'),
    'checks': attempt(CHECKS, '\\nraise SystemExit\\n'),
    'gradebook': attempt(GRADEBOOK, 'forged'),
    'harness': attempt('/grade/in/pytest.ini', 'x'),
}
raise RuntimeError('PROBE ' + json.dumps(found, sort_keys=True))
"""

FORGER = """
import os, sys, json
found = {}
parent = os.getppid()
try:
    os.kill(parent, 0)
    found['signal_harness'] = 'allowed'
except Exception as error:
    found['signal_harness'] = type(error).__name__
try:
    with open(f'/proc/{parent}/fd/1', 'w') as handle:
        handle.write('forged')
    found['harness_pipe'] = 'written'
except Exception as error:
    found['harness_pipe'] = type(error).__name__
forged = json.dumps([{'cell_id': 'x', 'tags': ['check-' + EXERCISE], 'passed': True, 'detail': ''}])
for fd in (1, 2):
    try:
        os.write(fd, ('\\nforged ' + forged + '\\n').encode())
    except OSError:
        pass
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, '-c', 'import time\\nwhile True: time.sleep(0.2)  # ' + MARK])
    os._exit(0)
os.waitpid(pid, 0)
raise RuntimeError('PROBE ' + json.dumps(found, sort_keys=True))
"""

LOOPER = """
import time
while True:
    try:
        time.sleep(0.05)
        print('still here')
    except KeyboardInterrupt:
        print('caught it')
"""

ORPHAN = """
import os, subprocess, sys
subprocess.Popen([sys.executable, '-c', 'import time\\nwhile True: time.sleep(0.2)  # ' + MARK], start_new_session=True)
os._exit = lambda *args: None
"""

FORKBOMB = """
import json, subprocess
children, error = [], ''
try:
    for _ in range(300):
        children.append(subprocess.Popen(['sleep', '60']))
except Exception as failure:
    error = type(failure).__name__
raise RuntimeError('PROBE ' + json.dumps({'spawned': len(children), 'error': error}))
"""


def _cells_by_tag(notebook):
    return {tag: cell for cell in notebook.cells for tag in cell.metadata.get("tags", [])}


def _digest(folder, pattern="*"):
    folder = Path(folder)
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob(pattern))
        if p.is_file() and not p.is_symlink()
    }


def _processes_with(marker):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(entry.name)
            except OSError:
                pass
    return found


def _kernel_user_processes():
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                uid = int(re.search(r"^Uid:\s+(\d+)", (entry / "status").read_text(), re.MULTILINE).group(1))
            except (OSError, AttributeError):
                continue
            if 200_000 <= uid < 1_200_000:
                found.append((entry.name, uid))
    return found


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    root, home, tmpdir, cwd = base / "class", base / "home", base / "tmp", base / "cwd"
    for folder in (root, home / ".ipython" / "profile_default" / "startup", tmpdir, cwd):
        folder.mkdir(parents=True)
    (home / ".bashrc").write_text("# the instructor's\n")
    (cwd / "gradebook.csv").write_text("precious earlier gradebook\n")
    solution = editions.read(SOLUTIONS_DIR / LESSON)
    stubs = editions.read(NOTEBOOKS_DIR / LESSON)
    exercise_ids = [e.id for e in editions.exercises(solution)]
    first = exercise_ids[0]
    context = {
        "CLASS": str(root),
        "HOME": str(home),
        "SECRET": SECRET_NAME,
        "MARK": MARK,
        "LESSON": LESSON,
        "CHECKS": str(COURSE_ROOT / "cnn_helpers" / "checks" / "lesson01.py"),
        "GRADEBOOK": str(cwd / "gradebook.csv"),
        "EXERCISE": first,
    }
    prelude = "".join(f"{key} = {value!r}\n" for key, value in context.items())

    def save(learner, notebook, name=LESSON):
        folder = root / learner if learner else root
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        editions.write(notebook, folder / name)
        return folder / name

    def attacker(code, learner):
        notebook = copy.deepcopy(stubs)
        _cells_by_tag(notebook)[f"exercise-{first}"].source = prelude + code
        save(learner, notebook)

    save("aaron", solution)  # honest, graded first
    save("zoe", solution)  # honest, graded last
    save("yuri", stubs)  # honest and unfinished: must still get 0 after the checks-rewriting attempt
    attacker(SPY, "spy")
    attacker(VANDAL, "vandal")
    attacker(FORGER, "forger")
    attacker(LOOPER, "looper")
    attacker(ORPHAN, "orphan")
    attacker("import os\nos._exit(1)\n", "crasher")
    attacker("import ctypes\nctypes.string_at(0)\n", "segfault")
    attacker("hoard = bytearray(3 * 2**30)\n", "bomb")
    attacker(FORKBOMB, "forkbomb")
    attacker("def oops(:\n    return 1\n", "syntax")

    for learner, lesson in (("traversal", "../../class/judy/.ipynb_checkpoints/01"), ("etc", "/etc/01")):
        notebook = copy.deepcopy(solution)
        notebook.metadata["cnn_course"] = {"lesson": lesson}
        save(learner, notebook)
    evil = copy.deepcopy(solution)  # the "reference" the traversal points at, worth 1000 points
    for cell in evil.cells:
        if editions.cell_role(cell) and editions.cell_role(cell)[0] == "check":
            cell.metadata["cnn_course"] = {"points": 1000}
            cell.source = "print('ok')"
    save("judy", solution)
    save("judy", evil, ".ipynb_checkpoints/01-evil.ipynb")

    path = save("badtags", solution)  # tags that are not strings, a tagged cell without source
    raw = json.loads(path.read_text())
    raw["cells"].append({"cell_type": "code", "metadata": {"tags": [1]}, "source": "print(1)", "outputs": []})
    raw["cells"].append({"cell_type": "code", "metadata": {"tags": ["exercise-9.9"]}, "outputs": []})
    path.write_text(json.dumps(raw))
    odd = copy.deepcopy(solution)
    odd.metadata["cnn_course"] = "01"
    save("strmeta", odd)
    (root / "garbage").mkdir()
    (root / "garbage" / LESSON).write_text("{ this is not JSON")

    save("dupe", solution)  # the one graded: nearest the top
    save("dupe", stubs, "old/" + LESSON)
    save("", solution, "01-stray.ipynb")  # a stray notebook at the class root
    (root / "linker").mkdir()
    (root / "linker" / LESSON).symlink_to(root / "zoe" / LESSON)
    save("brackets", solution, "01-conv[1].ipynb")
    save("colons", solution, "01-x::y.ipynb")

    before = {
        "class": _digest(root),
        "home": _digest(home),
        "course": _digest(COURSE_ROOT / "cnn_helpers"),
        "notebooks": _digest(COURSE_ROOT / "notebooks"),
    }
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(tmpdir), SECRET_NAME: SECRET_VALUE}
    started = time.perf_counter()
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "cnn_helpers",
            "grade",
            str(root),
            "--json",
            "--cell-timeout",
            str(CELL_TIMEOUT),
            "--timeout",
            "3",
            "--jobs",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        cwd=cwd,
        check=False,
    )
    seconds = time.perf_counter() - started
    time.sleep(1.0)  # give a detached process the chance to rewrite the gradebook
    report = json.loads(completed.stdout)
    if os.environ.get("CNN_COURSE_HOSTILE_TIMES"):
        Path(os.environ["CNN_COURSE_HOSTILE_TIMES"]).write_text(
            "\n".join(f"{n['learner']} {n['seconds']}" for n in report["notebooks"])
            + f"\nall {seconds:.1f}\n"
        )
    rows = {}
    for notebook in report["notebooks"]:
        rows.setdefault(notebook["learner"], []).append(notebook)
    return {
        "root": root,
        "home": home,
        "tmpdir": tmpdir,
        "cwd": cwd,
        "before": before,
        "report": report,
        "by": {learner: found[0] for learner, found in rows.items()},
        "rows": rows,
        "completed": completed,
        "seconds": seconds,
        "first": first,
        "exercise_ids": exercise_ids,
        "survivors": _processes_with(MARK),
        "kernel_users": _kernel_user_processes(),
        "solution_points": sum(e.points for e in editions.exercises(solution)),
    }


def _probe(result, exercise_id):
    message = next(e["message"] for e in result["exercises"] if e["id"] == exercise_id)
    match = re.search(r"PROBE (\{.*\})", message)
    assert match, message
    return json.loads(match.group(1))


def _full(result, maximum):
    return not result["error"] and result["points"] == result["max_points"] == maximum


def test_batch_finishes_and_reports_everyone(hostile_class):
    completed = hostile_class["completed"]
    assert completed.returncode == 1, completed.stderr
    expected = {
        "aaron",
        "zoe",
        "yuri",
        "spy",
        "vandal",
        "forger",
        "looper",
        "orphan",
        "crasher",
        "segfault",
        "bomb",
        "forkbomb",
        "syntax",
        "traversal",
        "etc",
        "judy",
        "badtags",
        "strmeta",
        "garbage",
        "dupe",
        "(top) 01-stray.ipynb",
        "linker",
        "brackets",
        "colons",
    }
    assert set(hostile_class["by"]) == expected


def test_honest_learners_score_right(hostile_class):
    by, maximum = hostile_class["by"], hostile_class["solution_points"]
    for learner in ("aaron", "zoe", "judy", "strmeta", "badtags", "brackets", "colons"):
        assert _full(by[learner], maximum), (learner, by[learner])
    yuri = by["yuri"]  # stubs, after an attempt to rewrite the checks on disk
    assert yuri["points"] == 0 and all("not done yet" in e["message"] for e in yuri["exercises"])


def test_no_file_of_the_class_changed(hostile_class):
    assert _digest(hostile_class["root"]) == hostile_class["before"]["class"]


def test_instructor_home_course_and_tmpdir_unchanged(hostile_class):
    before = hostile_class["before"]
    assert _digest(hostile_class["home"]) == before["home"]
    assert _digest(COURSE_ROOT / "cnn_helpers") == before["course"]
    assert _digest(COURSE_ROOT / "notebooks") == before["notebooks"]
    assert list(hostile_class["tmpdir"].iterdir()) == []  # no grading folder, no connection file


def test_existing_gradebook_is_kept_and_a_new_one_written(hostile_class):
    cwd = hostile_class["cwd"]
    assert (cwd / "gradebook.csv").read_text() == "precious earlier gradebook\n"
    assert "gradebook.csv exists" in hostile_class["completed"].stderr
    with open(cwd / "gradebook-2.csv", newline="") as handle:
        rows = {row["learner"]: row for row in csv.DictReader(handle)}
    maximum = str(hostile_class["solution_points"])
    assert rows["aaron"]["total"] == rows["zoe"]["total"] == maximum and rows["yuri"]["total"] == "0"
    assert rows["forger"]["total"] == "0" and "two digits" in rows["traversal"]["errors"]
    assert "symbolic link" in rows["linker"]["errors"] and "not graded" in rows["dupe"]["notes"]


def test_no_process_survives(hostile_class):
    assert hostile_class["survivors"] == []
    assert hostile_class["kernel_users"] == []


def test_spy_sees_no_class_secret_home_or_network(hostile_class):
    found = _probe(hostile_class["by"]["spy"], hostile_class["first"])
    assert found == {"sees_class": False, "secret": False, "home_visible": False, "net": False}
    assert SECRET_VALUE not in hostile_class["completed"].stdout + hostile_class["completed"].stderr


def test_vandal_writes_nothing_outside_its_sandbox(hostile_class):
    found = _probe(hostile_class["by"]["vandal"], hostile_class["first"])
    assert all(outcome != "written" for outcome in found.values()), found


def test_forger_cannot_reach_the_harness_or_forge_a_result(hostile_class):
    forger = hostile_class["by"]["forger"]
    found = _probe(forger, hostile_class["first"])
    assert found["signal_harness"] == "PermissionError" and found["harness_pipe"] != "written"
    assert forger["points"] == 0 and not forger["error"]


def test_interrupt_swallowing_loop_is_stopped_by_the_cell_limit(hostile_class):
    looper = hostile_class["by"]["looper"]
    message = next(e["message"] for e in looper["exercises"] if e["id"] == hostile_class["first"])
    assert "ignored the interrupt" in message
    assert looper["seconds"] < CELL_TIMEOUT + 40  # not the 3-minute notebook limit


def test_dead_kernel_is_reported_at_once(hostile_class):
    for learner in ("crasher", "segfault", "orphan"):
        result = hostile_class["by"][learner]
        messages = [e["message"] for e in result["exercises"]]
        if learner == "orphan":  # os._exit patched: the kernel lives; its children die with the sandbox
            assert not result["error"]
            continue
        assert "the kernel died" in messages[0], (learner, messages)
        assert result["seconds"] < CELL_TIMEOUT + 20


def test_memory_bomb_and_fork_bomb_hit_their_limits(hostile_class):
    bomb = next(
        e["message"] for e in hostile_class["by"]["bomb"]["exercises"] if e["id"] == hostile_class["first"]
    )
    assert "MemoryError" in bomb
    found = _probe(hostile_class["by"]["forkbomb"], hostile_class["first"])
    assert found["spawned"] < sandbox.DEFAULT_PROCESSES and found["error"]


def test_error_in_exercise_cell_reported_with_its_type_and_line(hostile_class):
    message = next(
        e["message"] for e in hostile_class["by"]["syntax"]["exercises"] if e["id"] == hostile_class["first"]
    )
    assert "SyntaxError" in message and re.search(r"line \d+", message), message


def test_path_traversal_and_bad_notebooks_are_error_rows(hostile_class):
    by = hostile_class["by"]
    for learner in ("traversal", "etc"):
        assert "two digits" in by[learner]["error"] and by[learner]["points"] == 0
    assert "not a readable notebook" in by["garbage"]["error"]
    assert "symbolic link" in by["linker"]["error"]
    assert (
        max(r["max_points"] for r in hostile_class["report"]["notebooks"]) == hostile_class["solution_points"]
    )


def test_duplicates_and_stray_notebooks_are_reported(hostile_class):
    dupe = hostile_class["rows"]["dupe"]
    assert len(dupe) == 1 and _full(dupe[0], hostile_class["solution_points"])
    assert any("not graded: old/" in note for note in dupe[0]["notes"])
    stray = hostile_class["by"]["(top) 01-stray.ipynb"]
    assert _full(stray, hostile_class["solution_points"]) and "top of the class folder" in stray["notes"][0]


def test_every_notebook_was_sandboxed(hostile_class):
    assert all(n["sandboxed"] for n in hostile_class["report"]["notebooks"])
