"""Packaging: one dependency list for pip and conda, a cheap import, and the CI entry point."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pip_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {re.split(r"[<>=!~ ]", d, maxsplit=1)[0].lower(): d.replace(" ", "") for d in project["dependencies"]}


def _conda_dependencies():
    # environment.yml is simple YAML; read its top-level list without needing PyYAML.
    found = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        match = re.match(r"^  - ([A-Za-z0-9_.\-]+)(.*)$", line)
        if match and match.group(1) not in ("python", "pip"):
            found[match.group(1).lower()] = (match.group(1) + match.group(2)).replace(" ", "")
    return found


def test_environment_yml_declares_the_same_dependencies_as_pyproject():
    assert _conda_dependencies() == _pip_dependencies()


def test_the_card_packages_are_declared():
    assert {"jupyterlab", "numpy", "matplotlib", "ipywidgets", "nbval"} <= set(_pip_dependencies())


def test_import_loads_no_plotting_widgets_or_oracles():
    """What keeps `import cnn_helpers` cheap (its time is measured in benchmarks/, not here)."""
    heavy = ("matplotlib", "ipywidgets", "scipy", "torch", "tqdm", "IPython", "nbformat")
    code = (
        "import sys; import cnn_helpers, cnn_helpers.conv, cnn_helpers.pooling, cnn_helpers.filters, "
        "cnn_helpers.layers, cnn_helpers.data, cnn_helpers.training, cnn_helpers.checks, cnn_helpers.widgets, "
        f"cnn_helpers.plotting; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert output == "[]", f"importing cnn_helpers pulled in {output}"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 course.py test" in readme
    assert "python3 course.py test" in ci
