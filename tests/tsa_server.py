"""A real RFC 3161 timestamp authority on 127.0.0.1 for the tests: openssl makes a root and a
TSA certificate, and every POSTed request is answered by `openssl ts -reply`."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from local_server import LocalServer

CONFIG = """
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = Test TSA
[ ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ tsa_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = {folder}/serial
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ess_cert_id_alg = sha256
ordering = no
tsa_name = no
ess_cert_id_chain = no
"""


def make_authority(folder: Path) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tsa.cnf").write_text(CONFIG.replace("{folder}", str(folder)))
    (folder / "serial").write_text("01\n")
    run = lambda *args: subprocess.run(args, check=True, capture_output=True, cwd=folder)  # noqa: E731
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run("openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
        "-subj", "/CN=Test Root", "-config", "tsa.cnf", "-extensions", "ca_ext")
    run("openssl", "req", *ec, "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", "/CN=Test TSA", "-config", "tsa.cnf")
    run("openssl", "x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "tsa.pem", "-days", "3650", "-extfile", "tsa.cnf", "-extensions", "tsa_ext")
    return {"folder": folder, "root": folder / "ca.pem"}


class TimestampAuthority(LocalServer):
    """``with TimestampAuthority(folder) as tsa: tsa.url`` — stops by itself on exit."""

    def __init__(self, folder: Path):
        super().__init__()
        self.authority = make_authority(folder)
        self.url = f"http://127.0.0.1:{self.port}/tsa"
        self.replies: list[Path] = []  # every token answered, in order: a signer may ask more than once
        self.numbering = threading.Lock()

    def answer(self, method, path, body):
        folder = self.authority["folder"]
        with self.numbering:
            number = len(self.replies) + 1
            self.replies.append(folder / f"r-{number}.tsr")
        (folder / f"q-{number}.tsq").write_bytes(body)
        subprocess.run(["openssl", "ts", "-reply", "-config", "tsa.cnf", "-queryfile", f"q-{number}.tsq",
                        "-signer", "tsa.pem", "-inkey", "tsa.key", "-out", f"r-{number}.tsr"],
                       check=True, capture_output=True, cwd=folder)
        return 200, "application/timestamp-reply", (folder / f"r-{number}.tsr").read_bytes()
