"""Content Credentials (C2PA): a capture signed by the camera app that took it.

ProofMode, Truepic and phones with C2PA cameras sign what they capture: a manifest inside the
file binds a hash of its bytes to the signer's certificate. ``evidence add`` verifies it with
the Content Authenticity Initiative's own library (``c2pa-python``) and keeps who signed, when
(the claim's trusted timestamp, when it carries one) and whether it validates. A file whose
credentials fail — a byte changed after signing, a broken signature — is flagged; a valid
signature by a signer on no trust list is recorded as valid, not trusted (a self-made
certificate proves integrity since signing, not who the signer is).

Verification stays offline: no OCSP request, no remote manifest fetched. A file without
credentials simply has none; that is no flag (most photos carry none).
"""

from __future__ import annotations

from pathlib import Path

#: What a verified manifest's validation state is kept as (``evidence.credentials``).
STATES = {"Trusted": "trusted", "Valid": "valid", "Invalid": "invalid"}
#: Offline: what a court may be shown is what the file itself proves.
OFFLINE = {"verify": {"ocsp_fetch": False, "remote_manifest_fetch": False}}


def supported(media_type: str) -> bool:
    """Whether C2PA credentials can be carried by (and read from) this type of file."""
    import c2pa

    return media_type in c2pa.Reader.get_supported_mime_types()


#: How a C2PA manifest store begins: a JUMBF description box ("jumd") with the C2PA UUID.
MANIFEST_STORE = b"jumd" + bytes.fromhex("6332706100110010800000aa00389b71")


def carries_manifest(path: Path | str, chunk: int = 1 << 20) -> bool:
    """Whether the file holds a C2PA manifest store at all (read in chunks: videos are big)."""
    tail = b""
    with open(path, "rb") as f:
        while block := f.read(chunk):
            if MANIFEST_STORE in tail + block:
                return True
            tail = block[-len(MANIFEST_STORE):]
    return False


def read_credentials(path: Path | str, media_type: str) -> dict:
    """The file's Content Credentials as evidence columns: ``credentials`` (trusted, valid or
    invalid), ``credentials_signer`` and ``credentials_issuer`` (the certificate's common name
    and issuer), ``credentials_time`` (ISO 8601, or None without a
    timestamp) and ``credentials_failures`` (the failing validation codes, comma-separated).
    An empty dict for a file without credentials or of a type that cannot carry them."""
    if not supported(media_type):
        return {}
    import c2pa

    try:
        context = c2pa.Context(settings=c2pa.Settings.from_dict(OFFLINE))
        with open(path, "rb") as stream:
            reader = c2pa.Reader(media_type, stream, context=context)
            state = reader.get_validation_state()
            results = reader.get_validation_results() or {}
            manifest = reader.get_active_manifest() or {}
    except c2pa.C2paError as ex:
        if not carries_manifest(path):
            return {}  # no credentials, or a file c2pa cannot parse that never carried any
        # A manifest there but unreadable (cut short, corrupted) fails like a wrong signature.
        return {"credentials": "invalid", "credentials_signer": None, "credentials_issuer": None,
                "credentials_time": None, "credentials_failures": f"unreadable: {str(ex).splitlines()[0][:200]}"}
    info = manifest.get("signature_info") or {}
    failures = [f.get("code", "") for f in (results.get("activeManifest") or {}).get("failure", [])]
    return {"credentials": STATES.get(state, "invalid"), "credentials_signer": info.get("common_name"),
            "credentials_issuer": info.get("issuer"), "credentials_time": info.get("time"),
            "credentials_failures": ", ".join(failures) or None}


def credential_facts(item: dict) -> list[dict]:
    """The flag of a file whose credentials fail (``credentials_failed``, with the codes)."""
    if item.get("credentials") == "invalid":
        codes = [c for c in (item.get("credentials_failures") or "").split(", ")
                 if c and c != "signingCredential.untrusted"]
        return [{"kind": "credentials_failed", "failures": codes}]
    return []


def credentials_summary(item: dict) -> dict | None:
    """What the custodian's statement says of a file's credentials, as plain values: the
    state, the issuer that vouches for the signer (the certificate's own name may be a
    tester's: it stays in the workspace), the claim's time and the failing codes."""
    if not item.get("credentials"):
        return None
    failed = credential_facts(item)
    return {"state": item["credentials"], "issuer": item.get("credentials_issuer"),
            "time": item.get("credentials_time"), "failures": failed[0]["failures"] if failed else []}
