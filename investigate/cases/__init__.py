"""The domain: cases, stores, testers, visits, findings, evidence, promises and replies.

Functions over a ``Workspace`` that take plain values and return plain dicts. They know no
click and print nothing; every write goes through ``Workspace.insert``/``update``/``delete``
so that it lands in the audit chain.
"""
