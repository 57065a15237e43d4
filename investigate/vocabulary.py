"""The words the records are made of, in one place: channels, outcomes, severities, attempt,
review and promise states, case and tip statuses.

Every module that checks a value, every CLI choice and every output that orders by them reads
these tuples, so a word added here is added everywhere at once. Channels are four lists on
purpose, each named for what it describes: a store is tested on one set of channels, a business
is asked for comment on another, a tip and a story's event arrive on others still. Order matters
where it says so (outcomes most severe first, case statuses in the order a case moves).

The bottom layer: plain values, no imports.
"""

#: How a store is reached and tested (a branch in person, a hotline, an e-mail address…).
STORE_CHANNELS = ("in_person", "phone", "email", "web", "mail")
#: How a business is asked for comment (the right of reply).
REPLY_CHANNELS = ("email", "letter", "phone", "in_person", "web_form")
#: How a tip reached the newsroom.
TIP_CHANNELS = ("phone", "email", "counter", "web_form", "letter", "fax", "referral", "import")
#: How an event of a story happened between the person and the business.
EVENT_CHANNELS = ("phone", "email", "letter", "counter", "web", "in_person")
#: Who says that an event of a story happened.
EVENT_SOURCES = ("person", "document", "newsroom", "company")

#: A visit's outcome, most to least severe; an attempt that could not be made is "not_completed".
OUTCOMES = ("violation", "inconclusive", "compliant")
NOT_COMPLETED = "not_completed"
SEVERITIES = ("observation", "low", "medium", "high", "critical")
#: Why an attempt could not be made (Synar/STARS): never compliant, never a violation.
ATTEMPT_STATUSES = (
    "completed",
    "closed",
    "not_found",
    "minors_not_admitted",
    "members_only",
    "unsafe",
    "other",
)
#: Review before it counts (ODK Central's states).
REVIEW_STATES = ("received", "has_issues", "approved", "rejected")
#: The review state of a visit recorded by mistake (``visit void``): it leaves every figure,
#: as a rejected one does, and no review or amendment brings it back; the log keeps it.
VOIDED = "voided"
VISIT_KINDS = ("undercover", "official")

#: What a person's account on the editors' Datasette may do: an editor decides reviews and asks
#: businesses for comment, legal counsel signs a case off, a reporter reads.
ACCOUNT_ROLES = ("editor", "legal", "reporter")

#: What the promise clock says of a promise (``numbers.clock``).
PROMISE_STATES = ("kept", "late", "broken", "overdue", "pending")
#: The states a protocol's ``[promise_score]`` may give points for: a promise not yet due is
#: left out of a score.
SCORED_PROMISE_STATES = ("kept", "late", "broken", "overdue")

#: A case moves through these, in this order.
CASE_STATUSES = ("planning", "fieldwork", "review", "published")
TIP_STATUSES = ("new", "checking", "case", "dropped")

#: The languages reports, letters and texts are written in.
LANGUAGES = ("en", "de", "da")
