"""Reproducible installs: requirements.lock pins every dependency exactly, CI installs from it,
and the dependency audit says "not checked" where no vulnerability database is reachable."""

from __future__ import annotations

import os
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def _locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, separator, version = line.partition("==")
        assert separator and version and not any(c in version for c in "<>=!~*, "), f"not an exact pin: {line}"
        pins[canonicalize_name(name)] = version
    return pins


def test_the_lock_pins_every_dependency_of_the_project_and_its_tests() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]
    locked = _locked()
    missing = sorted({canonicalize_name(Requirement(text).name) for text in wanted} - set(locked))
    assert not missing, f"requirements.lock lacks {missing}"
    for text in wanted:
        requirement = Requirement(text)
        version = locked[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(version, prereleases=True), f"{text} but locked {version}"


def test_this_environment_is_the_locked_one() -> None:
    """CI installs requirements.lock; what the tests run on is exactly what is locked."""
    different = {}
    for name, version in _locked().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            different[name] = (version, installed)
    assert not different, different


def test_ci_installs_from_the_lock_then_sauti_without_dependencies() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert "pip install -q -r requirements.lock" in script
    assert "pip install -q -e . --no-deps" in script
    assert script.index("requirements.lock") < script.index("-e . --no-deps")
    assert "'.[test]'" not in script  # no second, unpinned resolution
    assert "bash .ci/audit" in script


def test_the_audit_says_not_checked_when_no_database_is_reachable(tmp_path) -> None:
    import socket

    with socket.socket() as sock:  # a port on which nothing answers
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/v1/query"
    result = subprocess.run(
        ["bash", str(ROOT / ".ci" / "audit")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SAUTI_AUDIT_PROBE_URL": closed, "SAUTI_AUDIT_ONLINE": "1"},
    )
    assert result.returncode == 0
    assert "NOT CHECKED" in result.stdout
    assert "no known vulnerabilities" not in (result.stdout + result.stderr).lower()
    # Without SAUTI_AUDIT_ONLINE the database is not even asked (CI reaches only the registries).
    offline = subprocess.run(
        ["bash", str(ROOT / ".ci" / "audit")],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "SAUTI_AUDIT_ONLINE"},
    )
    assert offline.returncode == 0 and "NOT CHECKED" in offline.stdout
