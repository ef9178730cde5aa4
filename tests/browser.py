"""Headless Chromium for tests that look at rendered pages (the report, later BI dashboards).

Chromium is not a Python dependency: it comes from Debian (`apt-get install chromium`,
stack-notes section 9). Tests call :func:`chromium_or_skip`, which finds the browser, installs
it when it is missing and ``apt-get`` is usable (as root), or skips with the reason printed,
so the suite stays green on machines where a browser cannot be had.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
APT_TIMEOUT = 600  # seconds; `apt-get update` alone takes ~20 s here, the install ~20 s more
_install_error: str | None = None  # remembered so a failed install is tried once per session


def find_chromium() -> str | None:
    """The path of an installed Chromium-family browser, or None."""
    override = os.environ.get("SQWH_CHROMIUM")
    if override and Path(override).exists():
        return override
    return next((p for name in CANDIDATES if (p := shutil.which(name))), None)


def apt_install(*packages: str, timeout: int = APT_TIMEOUT) -> str | None:
    """Install Debian packages non-interactively; returns None on success, else why not."""
    if shutil.which("apt-get") is None:
        return "apt-get is not available on this machine"
    if os.geteuid() != 0:
        return "apt-get needs root and the tests do not run as root"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", *packages],
    )
    for cmd in steps:
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return f"`{' '.join(cmd)}` took longer than {timeout} s"
        if proc.returncode != 0:
            return f"`{' '.join(cmd)}` exited {proc.returncode}: {proc.stderr.strip()[-500:]}"
    return None


def ensure_chromium() -> tuple[str | None, str]:
    """Find Chromium or install it; returns (path or None, reason when None)."""
    global _install_error
    found = find_chromium()
    if found:
        return found, ""
    if _install_error is None:
        print("chromium not found: installing the Debian package (about 40 s)")
        _install_error = apt_install("chromium") or ""
    found = find_chromium()
    if found:
        return found, ""
    return None, f"no headless Chromium: {_install_error or 'installed, but not on PATH'}"


def chromium_or_skip() -> str:
    """The browser path for a test, or skip the test saying why (also printed for -rs)."""
    path, reason = ensure_chromium()
    if path is None:
        print(reason)
        pytest.skip(reason)
    return path


def screenshot(
    browser: str, page: Path, png: Path, *, width: int = 1280, height: int = 2400
) -> subprocess.CompletedProcess:
    """Render a local page offline in headless Chromium and save a PNG of the viewport.

    The flags are what stack-notes section 9 found necessary as root (no sandbox) and keep
    the browser from reaching out to the network (background networking, component updates).
    """
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png}",
            page.resolve().as_uri(),
        ]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def has_cjk_font() -> bool:
    """True when fontconfig knows a font with Chinese glyphs (else the browser shows tofu)."""
    if shutil.which("fc-list") is None:
        return False
    proc = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, timeout=30)
    return bool(proc.stdout.strip())


def ensure_cjk_font(download_timeout: int = 90) -> str | None:
    """Install Debian's ``fonts-noto-cjk`` if that is quick; None when a CJK font is present.

    Only the download (56 MB) gets a time limit: interrupting a download is harmless, while
    interrupting dpkg is not. Without the font, pages still render, with boxes for Chinese.
    """
    if has_cjk_font():
        return None
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return "no CJK font and no root apt-get to install fonts-noto-cjk"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    get = ["apt-get", "install", "-y", "--no-install-recommends", "fonts-noto-cjk"]
    try:
        fetched = subprocess.run(
            [*get, "--download-only"],
            env=env,
            capture_output=True,
            text=True,
            timeout=download_timeout,
        )
    except subprocess.TimeoutExpired:
        return f"fonts-noto-cjk did not download within {download_timeout} s"
    if fetched.returncode != 0:
        return f"fonts-noto-cjk download failed: {fetched.stderr.strip()[-300:]}"
    proc = subprocess.run(get, env=env, capture_output=True, text=True, timeout=APT_TIMEOUT)
    if proc.returncode != 0:
        return f"fonts-noto-cjk install failed: {proc.stderr.strip()[-300:]}"
    return None if has_cjk_font() else "fonts-noto-cjk installed but fontconfig lists no zh font"
