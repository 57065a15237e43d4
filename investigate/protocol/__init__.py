"""Protocols are data: TOML files that say what a visit records and how its outcome follows.
Judging a visit needs nothing above this package.

A protocol declares its questions (key, type, prompt, required, choices), the tester age
range where minors test, and rules. A rule is declarative — ``when`` holds conditions on
answers, all of which must hold — and says which outcome, finding and promise follow. No
``eval``: the only operators are the ones in ``OPERATORS``.

Texts are in English in the protocol's own fields; ``[text.de]`` / ``[text.da]`` (and
``[text.en]`` for English choice labels) give the title, description, ID policy, question
prompts, choice labels and finding titles in another language. ``Protocol.texts(lang)`` returns
them all, or raises ``MissingTranslation`` naming every text the language lacks — a report in
German must not fall back to English.

Built-ins ship in ``investigate/protocols/``; a workspace adds its own in its
``protocols/`` folder (a workspace protocol with a built-in's key replaces it).

``values`` (answer values, conditions), ``questions``, ``model`` (rules, texts, the ``Protocol``
that judges), ``parse`` (the file checked, the content hash), ``protocols`` (where they come
from), ``rotation`` (the rotation table's shape) and ``versions`` (what a workspace keeps of
the protocols its visits were judged by).
"""
