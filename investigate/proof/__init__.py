"""Proof that records were not altered: the RFC 6962 Merkle tree over the audit log, signed
checkpoints (C2SP signed notes), RFC 3161 timestamps, and ``verify``, which recomputes all of
it from the entries themselves."""
