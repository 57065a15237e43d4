"""Render the demo as a reader and an editor see it, into docs/screenshots/ (``make screenshots``).

Every page of the public and internal PDF (pdftoppm) and the main Datasette pages of the
editors' and the public instance (headless Chromium), from a fresh demo workspace. Needs
pdftoppm and chromium on the PATH; nothing is fetched from the network.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CASE = "tobacco-neukoelln-2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 30) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer")


def investigate(ws: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "investigate", "-w", str(ws), *args], check=True,
                   stdout=subprocess.DEVNULL)


def pdf_pages(pdf: Path, out: Path, stem: str) -> None:
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(out / stem)], check=True)


def browser_shot(url: str, target: Path, profile: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium is None:
        raise SystemExit("no Chromium on this machine (apt-get install chromium)")
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--disable-background-networking", f"--user-data-dir={profile}",
                    "--window-size=1280,1400", "--hide-scrollbars", f"--screenshot={target}", url],
                   check=True, capture_output=True, timeout=120)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ws = tmp / "demo"
        investigate(tmp, "demo", str(ws))
        for edition in ("public", "internal"):
            pdf = tmp / f"{edition}.pdf"
            extra = ["--override", "screenshots of the demo"] if edition == "public" else []
            investigate(ws, "report", CASE, "--edition", edition, "--out", str(pdf), *extra)
            pdf_pages(pdf, out, f"report-{edition}")
        investigate(ws, "publish", "--case", CASE, "--override", "screenshots of the demo")
        servers = []
        try:
            editors, public = free_port(), free_port()
            env = {k: v for k, v in os.environ.items() if k != "INVESTIGATE_EDITOR_PASSWORD_HASH"}
            servers.append(subprocess.Popen([sys.executable, "-m", "investigate", "-w", str(ws), "serve",
                                             "--port", str(editors)], env=env,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            servers.append(subprocess.Popen([sys.executable, "-m", "investigate", "-w", str(ws), "publish",
                                             "--case", CASE, "--override", "screenshots of the demo", "--serve",
                                             "--port", str(public)], env=env,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_for(f"http://127.0.0.1:{editors}/")
            wait_for(f"http://127.0.0.1:{public}/")
            pages = {
                "editors-home": f"http://127.0.0.1:{editors}/",
                "editors-visit-list": f"http://127.0.0.1:{editors}/investigate/visit_list",
                "editors-cases": f"http://127.0.0.1:{editors}/investigate/cases",
                "public-home": f"http://127.0.0.1:{public}/",
                "public-visits": f"http://127.0.0.1:{public}/public/visits",
                "public-rates": f"http://127.0.0.1:{public}/public/rates",
            }
            for name, url in pages.items():
                browser_shot(url, out / f"{name}.png", tmp / "chromium")
        finally:
            for proc in servers:
                proc.terminate()
                proc.wait(timeout=10)
    print(f"{len(list(out.glob('*.png')))} screenshots in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
