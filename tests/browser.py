"""Debian's Chromium for browser tests: installed on first use when missing.

Playwright's own browser download does not work on these machines, so tests launch
/usr/bin/chromium. In CI (CI=true) a browser that cannot be had is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading

import pytest

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_lock = threading.Lock()


def _found() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def ensure_chromium() -> str:
    """The Chromium executable, installing Debian's package if needed and possible."""
    with _lock:
        path = _found()
        if path:
            return path
        problem = _install()
        path = _found()
        if path:
            return path
        message = f"Chromium is not installed and could not be installed: {problem}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message + " (run as root, or: apt-get install chromium)")


def _install() -> str:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "not root or no apt-get"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            return f"{' '.join(command)} failed: {done.stderr.strip()[-500:]}"
    return "installed"
