"""Signed captures: C2PA Content Credentials verified when evidence is added, a file whose
credentials fail flagged, and the custodian's statement saying so.

The fixture is signed in the test through the same library (c2pa-python) with a certificate
made here by cryptography: a self-made root and, under it, the capture app's signing
certificate, as a newsroom's own ProofMode-style app would carry (c2pa refuses a self-signed
end certificate, so the root is needed; it is on no trust list, hence "valid", not "trusted")."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess

import c2pa
import pytest
from conftest import need_tool
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from photos import save, shot, street
from tsa_server import TimestampAuthority

from investigate.cases.review import review_queue


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Newsroom")])


def _usage(**on) -> x509.KeyUsage:
    flags = dict.fromkeys(("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                           "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"), False)
    return x509.KeyUsage(**{**flags, **on})


def signing_credentials(now: dt.datetime) -> tuple[bytes, bytes]:
    """(certificate chain PEM, private key PEM) of a capture app under a self-made root."""
    root_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root = (x509.CertificateBuilder().subject_name(_name("Test Root")).issuer_name(_name("Test Root"))
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_usage(key_cert_sign=True, crl_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(_name("Test Camera")).issuer_name(root.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return (leaf.public_bytes(pem) + root.public_bytes(pem),
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def signed_photo(path, now, *, tsa_url=None):
    """A shop-front photo with Content Credentials, signed as a capture app signs it."""
    source = save(shot(street(29)), path.with_name("unsigned.jpg"))
    chain, key = signing_credentials(now)
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, key, tsa_url))
    builder = c2pa.Builder({
        "claim_generator_info": [{"name": "investigate-tests", "version": "1"}], "title": path.name,
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [{
            "action": "c2pa.created",
            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}]}}]})
    signed = io.BytesIO()
    with open(source, "rb") as stream:
        builder.sign(signer, "image/jpeg", stream, signed)
    path.write_bytes(signed.getvalue())
    return path


def one_byte_changed(path, target):
    data = bytearray(path.read_bytes())
    data[-200] ^= 0x01  # in the picture's data, after the manifest
    target.write_bytes(bytes(data))
    return target


def test_a_signed_capture_is_verified_and_its_signer_recorded(workspace, tobacco_case, run, tmp_path):
    photo = signed_photo(tmp_path / "IMG_signed.jpg", workspace.now())
    visit = tobacco_case["visits"][0]
    result = run("evidence", "add", visit["id"], photo, "--json")
    assert result.exit_code == 0, result.output
    item = json.loads(result.output)[0]
    assert (item["credentials"], item["credentials_signer"], item["credentials_issuer"]) == (
        "valid", "Test Camera", "Test Newsroom")
    assert "signingCredential.untrusted" in item["credentials_failures"]  # a self-made root: valid, not trusted
    assert not any("Content Credentials" in w for w in item["warnings"])


def test_a_signed_capture_with_one_byte_changed_is_flagged(workspace, tobacco_case, run, tmp_path):
    photo = signed_photo(tmp_path / "IMG_signed.jpg", workspace.now())
    changed = one_byte_changed(photo, tmp_path / "IMG_changed.jpg")
    visit = tobacco_case["visits"][1]
    result = run("evidence", "add", visit["id"], changed)
    assert result.exit_code == 0, result.output
    assert "Content Credentials (C2PA) fail: assertion.dataHash.mismatch" in result.stderr
    row = workspace.db.execute("select credentials from evidence where original_name = 'IMG_changed.jpg'").fetchone()
    assert row[0] == "invalid"
    flags = {r["id"]: r["flags"] for r in review_queue(workspace, states=("received",))}[visit["id"]]
    assert any("Content Credentials (C2PA) fail" in f for f in flags)


def test_a_photo_without_credentials_has_none_and_no_flag(workspace, tobacco_case, run, tmp_path):
    plain = save(shot(street(30)), tmp_path / "IMG_plain.jpg")
    item = json.loads(run("evidence", "add", tobacco_case["visits"][0]["id"], plain, "--json").output)[0]
    assert item["credentials"] is None and item["credentials_signer"] is None
    assert not any("Content Credentials" in w for w in item["warnings"])


def test_a_timestamped_claim_keeps_the_time_its_authority_gave(workspace, tobacco_case, run, tmp_path):
    openssl = need_tool("openssl", package="openssl")
    with TimestampAuthority(tmp_path / "tsa") as tsa:
        photo = signed_photo(tmp_path / "IMG_stamped.jpg", workspace.now(), tsa_url=tsa.url)
    item = json.loads(run("evidence", "add", tobacco_case["visits"][0]["id"], photo, "--json").output)[0]
    # The authority's own clock (openssl's: the system's, not the suite's frozen one), read back
    # from the tokens it answered with. Every one of them: c2pa may ask more than once (a CI run
    # saw the claim carry a token a second older than the last one answered).
    given = set()
    for reply in tsa.replies:
        text = subprocess.run([openssl, "ts", "-reply", "-in", str(reply), "-text"],
                              capture_output=True, text=True, check=True).stdout
        stamp = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Time stamp:"))
        given.add(dt.datetime.strptime(stamp.replace(" GMT", ""), "%b %d %H:%M:%S %Y").replace(tzinfo=dt.timezone.utc))
    stamped = dt.datetime.fromisoformat(item["credentials_time"].replace("Z", "+00:00"))
    assert given and stamped in given, (stamped, given)
    assert stamped != workspace.now().replace(microsecond=0)


def test_custodian_statement_lists_failing_and_valid_credentials_without_the_signer_name(
        workspace, tobacco_case, run, tmp_path):
    pdftotext = need_tool("pdftotext", package="poppler-utils")
    photo = signed_photo(tmp_path / "IMG_signed.jpg", workspace.now())
    run("evidence", "add", tobacco_case["visits"][0]["id"], photo)
    run("evidence", "add", tobacco_case["visits"][1]["id"], one_byte_changed(photo, tmp_path / "IMG_changed.jpg"))
    out = tmp_path / "statement.pdf"
    result = run("certify", "tobacco-nk", "--lang", "en", "--out", out, "--custodian", "Jana Berg")
    assert result.exit_code == 0, result.output
    text = " ".join(subprocess.run([pdftotext, "-layout", str(out), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    # (the row's heading "Content Credentials" wraps in its narrow column)
    assert "do not verify (assertion.dataHash.mismatch) · issued by Test Newsroom" in text
    assert "verified; signer on no trust list · issued by Test Newsroom" in text
    assert "its Content Credentials (C2PA) do not verify" in text  # the flag, in the output's words
    assert "Test Camera" not in text  # the certificate's own name may be a tester's: it stays internal


@pytest.mark.parametrize("lang", ["de", "da"])
def test_custodian_statement_says_credentials_in_german_and_danish(workspace, tobacco_case, run, tmp_path, lang):
    pdftotext = need_tool("pdftotext", package="poppler-utils")
    photo = signed_photo(tmp_path / "IMG_signed.jpg", workspace.now())
    run("evidence", "add", tobacco_case["visits"][1]["id"], one_byte_changed(photo, tmp_path / "IMG_changed.jpg"))
    title = {"de": "Tabakverkauf an Minderjährige", "da": "Tobakssalg til mindreårige"}[lang]
    assert run("case", "edit", "tobacco-nk", "--lang", lang, "--title", title).exit_code == 0
    out = tmp_path / f"statement-{lang}.pdf"
    result = run("certify", "tobacco-nk", "--lang", lang, "--out", out)
    assert result.exit_code == 0, result.output
    text = " ".join(subprocess.run([pdftotext, str(out), "-"], capture_output=True, text=True, check=True).stdout.split())
    assert {"de": "nicht bestätigt", "da": "ikke bekræftet"}[lang] in text


def test_a_file_c2pa_cannot_parse_is_no_credentials_unless_it_carried_a_manifest(
        workspace, tobacco_case, run, tmp_path):
    visit = tobacco_case["visits"][0]
    scanned = tmp_path / "receipt.pdf"
    scanned.write_bytes(b"%PDF-1.4 not really a pdf")  # a scan a reporter keeps: no credentials
    item = json.loads(run("evidence", "add", visit["id"], scanned, "--json").output)[0]
    assert item["credentials"] is None
    photo = signed_photo(tmp_path / "IMG_signed.jpg", workspace.now())
    cut = tmp_path / "IMG_cut.jpg"
    cut.write_bytes(photo.read_bytes()[:3000])  # sent half-way: its manifest is there, broken
    result = run("evidence", "add", visit["id"], cut)
    assert result.exit_code == 0, result.output
    assert "Content Credentials (C2PA) fail: unreadable" in result.stderr
