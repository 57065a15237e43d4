"""The workspace's two secrets, as files in ``keys/`` beside the database, never inside it.

- ``keys/log.key``: the Ed25519 key that signs the log's checkpoints (PKCS#8 PEM, mode 0600,
  encrypted when ``INVESTIGATE_KEY_PASSPHRASE`` is set). Readers of a publication check it
  with the signed-note verifier key ``<name>+<key id hex>+<base64(0x01 ‖ public key)>``.
- ``keys/sources.key``: the secret of the keyed hashes that stand for sources' contacts in
  the audit log, so that a copy of the database or a bundle's chain cannot be searched by
  hashing every phone number.

The bottom layer: files and bytes in, keys out. The workspace (``store``) makes them when it
is made or first opened; the log (``proof``) signs and verifies with them.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InvestigateError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KEYS_DIR = "keys"
KEY_FILE = "log.key"
#: The witness's own key (issue 28): C2SP asks a cosigner for a key of its own, never the log's.
WITNESS_KEY_FILE = "witness.key"
SOURCES_KEY = "sources.key"
PASSPHRASE_ENV = "INVESTIGATE_KEY_PASSPHRASE"
ALG_ED25519 = b"\x01"
#: The signature type of a C2SP tlog-cosignature/v1 (Ed25519 over a timestamped message).
ALG_COSIGNATURE = b"\x04"


def key_id(name: str, public: bytes, alg: bytes = ALG_ED25519) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + alg + public).digest()[:4]


def verifier_key(name: str, public: bytes, alg: bytes = ALG_ED25519) -> str:
    """A signed-note verifier key: name+hex key id+base64(alg ‖ key)."""
    return f"{name}+{key_id(name, public, alg).hex()}+{base64.b64encode(alg + public).decode()}"


def parse_verifier_key(text: str, alg: bytes = ALG_ED25519) -> tuple[str, bytes]:
    try:
        name, kid, b64 = text.strip().split("+", 2)  # base64 may hold "+", a name may not
        raw = base64.b64decode(b64, validate=True)
    except ValueError:
        raise InvestigateError(f"not a verifier key: {text[:40]!r} (name+id+base64 expected)")
    if raw[:1] != alg or len(raw) != 33 or key_id(name, raw[1:], alg).hex() != kid:
        raise InvestigateError(f"verifier key for {name!r} is malformed, of another kind or its id does not match")
    return name, raw[1:]


def _passphrase() -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode() if value else None


def signing_key_path(root: Path, file: str = KEY_FILE) -> Path:
    return Path(root) / KEYS_DIR / file


def public_key_bytes(root: Path, file: str = KEY_FILE) -> bytes:
    """The raw public key of the workspace at ``root`` (its log's, or with ``file`` its
    witness's), the key made first if it has none (readers need the public half)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = signing_key_path(root, file)
    if path.exists():
        public = load_private_key(root, file).public_key()
    else:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        private = Ed25519PrivateKey.generate()
        secret = _passphrase()
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(secret) if secret else serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fp:
            fp.write(pem)
        public = private.public_key()
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def load_private_key(root: Path, file: str = KEY_FILE) -> Ed25519PrivateKey:
    # cryptography is imported where a key is made or read: a fifth of the start-up of every
    # command, most of which never sign anything.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = signing_key_path(root, file)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvestigateError(f"{path}: no signing key (run 'investigate checkpoint' to make one)")
    try:
        key = serialization.load_pem_private_key(data, password=_passphrase())
    except TypeError:
        raise InvestigateError(f"{path} is encrypted: set {PASSPHRASE_ENV}")
    except ValueError:
        raise InvestigateError(f"{path}: the key cannot be read (wrong {PASSPHRASE_ENV}?)")
    if not isinstance(key, Ed25519PrivateKey):
        raise InvestigateError(f"{path} is not an Ed25519 key")
    return key


def sources_key(root: Path) -> bytes:
    """The secret for keyed hashes of sources' contacts (``keys/sources.key``, mode 0600),
    made on first use."""
    path = Path(root) / KEYS_DIR / SOURCES_KEY
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fp:
            fp.write(key.hex() + "\n")
        return key
    except ValueError:
        raise InvestigateError(f"{path}: not a key (64 hexadecimal digits expected)")
