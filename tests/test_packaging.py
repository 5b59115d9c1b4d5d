"""Packaging: one dependency list for pip and conda, one Python floor, one pinned linter, a cheap
import, a package that runs only from the course folder, and the CI entry point."""

import importlib.metadata
import importlib.util
import itertools
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from cnn_helpers import _paths

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
CI_COMMANDS = "\n".join(line for line in CI.splitlines() if not line.lstrip().startswith("#"))
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _name(requirement):
    return re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _pip_dependencies():
    return {_name(d): d.replace(" ", "") for d in PYPROJECT["project"]["dependencies"]}


def _conda_list():
    # environment.yml is simple YAML; read its top-level list without needing PyYAML.
    found = {}
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    for line in text.split("dependencies:", 1)[1].splitlines():
        match = re.match(r"^  - ([A-Za-z0-9_.\-]+)(.*)$", line)
        if match:
            found[match.group(1).lower()] = (match.group(1) + match.group(2)).replace(" ", "")
    return found


def _constraints():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = line.split(";")[0].strip()
            pins[_name(requirement)] = requirement.split("==", 1)[1]
    return pins


# -------------------------------------------------------------------------- dependencies and pins


def test_environment_yml_declares_the_same_dependencies_as_pyproject():
    conda = {name: spec for name, spec in _conda_list().items() if name not in ("python", "pip")}
    assert conda == _pip_dependencies()


def test_the_card_packages_are_declared():
    assert {"jupyterlab", "numpy", "matplotlib", "ipywidgets", "nbval"} <= set(_pip_dependencies())


def test_one_python_floor_in_pyproject_environment_yml_course_py_and_readme():
    floor = PYPROJECT["project"]["requires-python"]
    assert re.fullmatch(r">=3\.\d+", floor), floor
    version = floor.removeprefix(">=")
    spec = importlib.util.spec_from_file_location("course_entry_point", ROOT / "course.py")
    course = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(course)  # defines functions and constants only; main() is not called
    assert ".".join(map(str, course.MINIMUM_PYTHON)) == version
    assert _conda_list()["python"] == f"python>={version}"
    assert f"You need Python {version} or newer" in README
    assert sys.version_info >= course.MINIMUM_PYTHON


def test_constraints_pin_every_dependency_and_extra_and_nothing_is_left_over_from_pip_freeze():
    pins = _constraints()
    extras = PYPROJECT["project"]["optional-dependencies"]
    wanted = set(_pip_dependencies()) | {_name(r) for r in itertools.chain(*extras.values())}
    wanted.discard("cnn-helpers")  # an extra may name another extra of the course itself
    assert wanted <= set(pins), sorted(wanted - set(pins))
    text = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    assert "cnn-helpers" not in text.lower() and "editable" not in text.lower()


def test_the_build_backend_can_read_the_spdx_license():
    """`license = "MIT"` (an SPDX expression) needs setuptools 77 or later to build at all."""
    assert PYPROJECT["project"]["license"] == "MIT"
    assert PYPROJECT["build-system"]["requires"] == ["setuptools>=77"]
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]


def test_ruff_is_pinned_once_in_constraints_the_lint_extra_and_pre_commit():
    version = _constraints()["ruff"]
    assert PYPROJECT["project"]["optional-dependencies"]["lint"] == [f"ruff=={version}"]
    hooks = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    assert re.findall(r"ruff==([0-9.]+)", hooks) == [version, version]  # ruff check, ruff format


# -------------------------------------------------------------------------- a cheap import


def test_the_math_data_and_checks_modules_load_numpy_and_nothing_else():
    """`import cnn_helpers` and every module that is not plotting, widgets or course machinery
    imports the standard library and NumPy only (its time is measured in benchmarks/, not here).

    matplotlib, ipywidgets, tqdm and IPython may load only in cnn_helpers.plotting and
    cnn_helpers.widgets (CONTRIBUTING, "Package conventions").
    """
    code = (
        "import importlib, pkgutil, sys\n"
        "import cnn_helpers\n"
        "skip = ('cnn_helpers.course', 'cnn_helpers.plotting', 'cnn_helpers.widgets', 'cnn_helpers.__main__')\n"
        "names = [m.name for m in pkgutil.walk_packages(cnn_helpers.__path__, 'cnn_helpers.')\n"
        "         if not m.name.startswith(skip)]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "top = {m.partition('.')[0] for m in sys.modules} - set(sys.stdlib_module_names)\n"
        "print(len(names), sorted(t for t in top if not t.startswith('_')))\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    count, loaded = output.split(" ", 1)
    assert int(count) >= 15, output  # conv, pooling, filters, layers, ..., data, images, checks
    assert loaded.strip() == "['cnn_helpers', 'numpy']", f"importing cnn_helpers pulled in {loaded}"


# -------------------------------------------------------------------------- checkout only


def test_the_course_root_is_this_checkout():
    assert _paths.course_root() == ROOT


def test_a_package_without_data_or_notebooks_beside_it_fails_naming_what_is_missing(tmp_path):
    (tmp_path / "cnn_helpers").mkdir()
    (tmp_path / "notebooks").mkdir()
    with pytest.raises(_paths.CourseFolderError, match=r"runs only from the course folder.* has no data/\. "):
        _paths.find_course_root(tmp_path / "cnn_helpers")
    (tmp_path / "notebooks").rmdir()
    with pytest.raises(_paths.CourseFolderError, match=r"has no data/ and no notebooks/\. "):
        _paths.find_course_root(tmp_path / "cnn_helpers")
    (tmp_path / "data").mkdir()
    (tmp_path / "notebooks").mkdir()
    assert _paths.find_course_root(tmp_path / "cnn_helpers") == tmp_path


def _setuptools_version():
    try:
        return tuple(int(part) for part in importlib.metadata.version("setuptools").split(".")[:2])
    except importlib.metadata.PackageNotFoundError:
        return None


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory):
    """The course built as a wheel (offline, with the setuptools in this environment) and unpacked
    as pip would install it, in a folder of its own."""
    version = _setuptools_version()
    if version is None or version < (77, 0):
        pytest.skip(
            f"building the wheel needs setuptools>=77 in {sys.executable} (found {version}); "
            "`python3 course.py test` installs it (the `test` extra)"
        )
    base = tmp_path_factory.mktemp("wheel")
    source = base / "course"
    not_shipped = (".git", ".venv*", "work", "test-artifacts", "build", "*.egg-info", "__pycache__")
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*not_shipped))
    offline = ["--no-deps", "--no-build-isolation", "--no-index", "--quiet"]
    command = [sys.executable, "-m", "pip", "wheel", *offline, "--wheel-dir", str(base / "dist"), str(source)]
    built = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = (base / "dist").glob("cnn_helpers-*.whl")
    site = base / "site-packages"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(site)
    return {"names": names, "site": site}


def test_the_wheel_holds_the_package_and_licence_but_no_data_or_lessons(installed_wheel):
    names = installed_wheel["names"]
    assert "cnn_helpers/conv.py" in names and "cnn_helpers/_paths.py" in names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names), names
    assert not [name for name in names if name.endswith((".npz", ".ipynb"))]


@pytest.mark.parametrize(
    "code",
    [
        "from cnn_helpers._paths import course_root; course_root()",
        "import cnn_helpers",
        "from cnn_helpers.data import load_digits; load_digits()",
    ],
)
def test_the_installed_wheel_fails_at_once_saying_it_runs_from_the_course_folder(
    installed_wheel, code, tmp_path
):
    site = installed_wheel["site"]
    program = (
        f"import sys; sys.path.insert(0, {str(site)!r})\n"
        "import cnn_helpers\n"
        f"assert cnn_helpers.__file__.startswith({str(site)!r}), cnn_helpers.__file__\n"
        f"{code}\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert ran.returncode == 1, ran.stdout + ran.stderr
    last_line = ran.stderr.strip().splitlines()[-1]
    assert last_line.startswith("cnn_helpers._paths.CourseFolderError: cnn_helpers runs only from the course")
    assert f"{site} has no data/ and no notebooks/" in last_line
    assert "python3 course.py start" in last_line


# -------------------------------------------------------------------------- CI and the README


def test_ci_runs_the_readme_test_command_in_two_lanes_that_together_select_every_test():
    assert "python3 course.py test      #" in README  # the README's command, without arguments
    pytest_options = PYPROJECT["tool"]["pytest"]["ini_options"]
    assert "-m" not in pytest_options["addopts"].split()  # ... which runs every test
    lanes = re.findall(r'python3 course\.py test -m "([^"]+)"', CI_COMMANDS)
    assert len(lanes) == 2, lanes
    markers = ("notebooks", "browser")
    assert set(markers) <= {m.split(":")[0] for m in pytest_options["markers"]}
    for values in itertools.product([False, True], repeat=len(markers)):
        chosen = [eval(lane, {"__builtins__": {}}, dict(zip(markers, values, strict=True))) for lane in lanes]
        assert sum(chosen) == 1, f"markers {dict(zip(markers, values, strict=True))}: lanes chosen {chosen}"


def test_ci_lints_the_whole_repository_before_testing():
    steps = [
        CI_COMMANDS.index(step)
        for step in ("ruff check .", "ruff format --check .", "python3 course.py test")
    ]
    assert steps == sorted(steps)
