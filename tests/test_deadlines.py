"""Issue 31 (4): one overall deadline per network call. A timestamp authority, tile server or
geocoder that trickles one byte at a time (its headers too) used to keep `checkpoint`, `bundle`
and `report` waiting forever: a socket timeout bounds each read, and each read got its byte.
Now each call is cut at its deadline, and the work goes on and says so."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from click.testing import CliRunner

from investigate.cases import stores
from investigate.cli import cli

from conftest import snapshot


class Trickle:
    """A server on 127.0.0.1 that answers every connection with an HTTP status line and
    headers one byte every 0.2 s, and never finishes; ``connections`` counts the calls.

    It paces itself with ``time.sleep``, not ``Event.wait(0.2)``: under libfaketime (CI's
    second run) a timed wait on a lock lasts a year on Python 3.11 (network.py says why), and
    the server fell silent instead of trickling."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()

    def _drip(self, conn):
        with conn:
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nX-Pad: " + b"a" * 10_000:
                time.sleep(0.2)
                if self.stop.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def __enter__(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.sock.close()


@pytest.fixture
def trickle():
    with Trickle() as server:
        yield server


def configure(ws, **settings: str) -> None:
    """Set ``key = value`` lines in the workspace's investigate.toml (each key in the template)."""
    text = ws.config_path.read_text(encoding="utf-8")
    for key, line in settings.items():
        start = text.index(f"\n{key} = ") + 1
        text = text[:start] + line + text[text.index("\n", start):]
    ws.config_path.write_text(text, encoding="utf-8")


def test_a_trickling_timestamp_authority_is_cut_at_the_deadline_and_the_stamp_queued(workspace, trickle, run):
    configure(workspace, tsa_url=f'tsa_url = "http://127.0.0.1:{trickle.port}/tsa"\ntimeout_seconds = 1.0')
    started = time.perf_counter()
    result = run("checkpoint")
    assert time.perf_counter() - started < 4
    assert result.exit_code == 0, result.output
    assert "Timestamp queued" in result.output and "no complete answer within 1 s" in result.output
    queued = workspace.db.execute("select count(*) from log_checkpoints where tsa_token is null").fetchone()[0]
    assert queued == 1 and trickle.connections == 1


def test_a_trickling_tile_server_is_asked_once_and_the_report_says_the_map_has_no_tiles(
        workspace, tobacco_case, trickle, tmp_path):
    configure(workspace, tile_url=f'tile_url = "http://127.0.0.1:{trickle.port}/{{z}}/{{x}}/{{y}}.png"\n'
                                  'tile_timeout_seconds = 1.0')
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["-w", str(workspace.root), "report", "tobacco-nk", "--edition", "internal",
                                      "--out", str(tmp_path / "r.pdf")])
    assert time.perf_counter() - started < 15  # the PDF itself takes a few seconds on a busy machine
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.pdf").exists()
    assert "the map is drawn without its tiles" in result.stderr and "within 1 s" in result.stderr
    assert trickle.connections == 1  # one late tile is enough: the others are not asked for


def test_a_trickling_geocoder_stops_at_the_deadline_in_one_line(workspace, trickle):
    stores.add_store(workspace, name="A", address="Sonnenallee 1", city="Berlin")
    before = snapshot(workspace)
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["-w", str(workspace.root), "store", "geocode", "--domain",
                                      f"127.0.0.1:{trickle.port}", "--scheme", "http", "--min-delay", "0",
                                      "--timeout", "1", "--user-agent", "investigate-tests"])
    assert time.perf_counter() - started < 4
    assert result.exit_code != 0
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "no complete answer within 1 s" in result.stderr
    assert snapshot(workspace) == before


@pytest.mark.parametrize("command", ["bundle", "publish"])
def test_bundle_and_publish_go_on_past_a_trickling_authority_and_say_so(workspace, tobacco_case, trickle, tmp_path,
                                                                         command):
    from investigate.cases.review import review_visit

    for v in tobacco_case["visits"]:
        review_visit(workspace, v, "approve")
    configure(workspace, tsa_url=f'tsa_url = "http://127.0.0.1:{trickle.port}/tsa"\ntimeout_seconds = 1.0')
    args = (["bundle", "tobacco-nk", "--out", str(tmp_path / "b.zip")] if command == "bundle"
            else ["publish", "--case", "tobacco-nk", "--override", "test", "--out", str(tmp_path / "public")])
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["-w", str(workspace.root), *args])
    assert time.perf_counter() - started < 10
    assert result.exit_code == 0, result.output
    assert "the checkpoint's timestamp is queued" in result.stderr and "within 1 s" in result.stderr


def test_a_silent_server_behind_https_is_cut_at_the_deadline_in_the_handshake(trickle):
    from investigate.network import DeadlinePassed, fetch

    started = time.perf_counter()
    with pytest.raises(DeadlinePassed, match="no complete answer within 0.5 s"):
        fetch(f"https://127.0.0.1:{trickle.port}/tile.png", seconds=0.5)  # it trickles no TLS
    assert time.perf_counter() - started < 2


def test_one_deadline_spans_every_read_of_a_call(trickle):
    from investigate.network import DeadlinePassed, fetch

    started = time.perf_counter()
    with pytest.raises(DeadlinePassed, match="tsa: no complete answer within 1 s"):
        fetch(f"http://127.0.0.1:{trickle.port}/", seconds=1, what="tsa")  # a byte every 0.2 s: each read in time
    assert 1 <= time.perf_counter() - started < 2


def test_a_server_whose_certificate_is_not_trusted_is_refused_not_read(tmp_path):
    """The bounded TLS context is still the default one: certificates are checked."""
    import datetime as dt
    import ssl
    import urllib.error

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from investigate.network import fetch

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)  # valid from long ago to far ahead: any clock
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start.replace(year=2100))
            .sign(key, hashes.SHA256()))
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def answer():
        conn, _ = listener.accept()
        try:
            with server_side.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret")
        except (ssl.SSLError, OSError):
            pass  # the client refused the certificate

    threading.Thread(target=answer, daemon=True).start()
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        fetch(f"https://127.0.0.1:{listener.getsockname()[1]}/", seconds=5)
    listener.close()
