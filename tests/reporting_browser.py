"""Headless Chromium driven over the DevTools protocol (websockets), for tests that check what a person
sees. Debian's ``chromium`` package; tests skip with a reason where it is missing."""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_binary() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageView:
    text: str
    images: list[dict[str, Any]]
    screenshot: bytes


def view(url: str, width: int = 1200, timeout: float = 60.0) -> PageView:
    """Open ``url`` in a fresh headless Chromium and return its visible text, every image's load state
    and a full-page PNG screenshot."""
    binary = chromium_binary()
    assert binary is not None
    profile = tempfile.mkdtemp(prefix="tejido-chromium-")
    args = [
        binary,
        "--headless=new",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        f"--window-size={width},900",
    ]
    if os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    process = subprocess.Popen([*args, "about:blank"], stderr=subprocess.PIPE, text=True)
    try:
        browser_ws = _devtools_url(process, timeout)
        with connect(browser_ws, max_size=64 * 1024 * 1024, open_timeout=timeout) as ws:
            ids = itertools.count(1)

            def call(method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
                message_id = next(ids)
                payload: dict[str, Any] = {"id": message_id, "method": method, "params": params}
                if session:
                    payload["sessionId"] = session
                ws.send(json.dumps(payload))
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    reply = json.loads(ws.recv(timeout=timeout))
                    if reply.get("id") == message_id:
                        if "error" in reply:
                            raise RuntimeError(f"{method}: {reply['error']}")
                        result: dict[str, Any] = reply.get("result", {})
                        return result
                raise TimeoutError(method)

            target = call("Target.createTarget", url="about:blank")["targetId"]
            session = call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            call("Page.enable", session)
            call("Page.navigate", session, url=url)
            state = ""
            deadline = time.monotonic() + timeout
            while state != "complete" and time.monotonic() < deadline:
                time.sleep(0.1)
                state = _evaluate(call, session, "document.readyState")
            script = (
                "JSON.stringify({text: document.body.innerText, images: Array.from(document.images).map("
                "i => ({alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight}))})"
            )
            seen = json.loads(_evaluate(call, session, script))
            shot = call("Page.captureScreenshot", session, format="png", captureBeyondViewport=True)
            return PageView(seen["text"], seen["images"], base64.b64decode(shot["data"]))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


def _evaluate(call: Any, session: str, expression: str) -> Any:
    result = call("Runtime.evaluate", session, expression=expression, returnByValue=True)
    return result["result"].get("value")


def _devtools_url(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}")
        match = re.search(r"DevTools listening on (ws://\S+)", line)
        if match:
            return match.group(1)
    raise TimeoutError("chromium did not announce its DevTools endpoint")


def artifact_dir() -> Path:
    """Where screenshots are kept after the run: ``TEST_ARTIFACTS_DIR``, by default
    ``.tejido/test-artifacts`` (ignored by git)."""
    default = Path(__file__).resolve().parents[1] / ".tejido" / "test-artifacts"
    path = Path(os.environ.get("TEST_ARTIFACTS_DIR") or default)
    path.mkdir(parents=True, exist_ok=True)
    return path
