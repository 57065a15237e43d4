"""The database schema, as an ordered list of sqlite-utils migrations.

Each migration runs in its own transaction and is recorded in ``_sqlite_migrations``; a
workspace made by an older version is brought up to date when it is opened. Never edit a
migration that has shipped: add a new one at the end. Columns have no SQL defaults — the
domain fills every value — so that what was hashed into the audit log is what is stored.
"""

from __future__ import annotations

from sqlite_utils import Migrations

from . import migrations_by_issue as by_issue, migrations_initial as initial

#: Every migration in the order it shipped. Never reorder or edit one: add a new one at the end.
STEPS = [
    ("0001_initial", initial.initial),
    ("0002_frames_rounds_review", initial.frames_rounds_review),
    ("i8_editorial", by_issue.editorial),
    ("i3_geo_sampling", by_issue.geo_sampling),
    ("i7_tips", by_issue.tips),
    ("i3_rates_index", by_issue.rates_index),
    ("i6_teamwork", by_issue.teamwork),
    ("i5_browse_indexes", by_issue.browse_indexes),
    ("i13_companies", by_issue.companies),
    ("i11_publication_policy", by_issue.publication_policy),
    ("i12_provable_log", by_issue.provable_log),
    ("i18_stories", by_issue.stories),
    ("i14_versions_are_content", by_issue.versions_are_content),
    ("i17_protocol_versions", by_issue.protocol_versions),
    ("i17_case_rotation", by_issue.case_rotation),
    ("i17_near_approximate", by_issue.near_approximate),
    ("i16_short_ids", by_issue.short_ids),
    ("i16_rates_index_covers_fieldwork", by_issue.rates_index_covers_fieldwork),
    ("i16_observer_index", by_issue.observer_index),
    ("i16_visit_tallies", by_issue.visit_tallies),
    ("i24_consent_withdrawn", by_issue.consent_withdrawn),
    ("i24_tip_fields", by_issue.tip_fields),
    ("i24_merge_resolution", by_issue.merge_resolution),
    ("i23_story_document_sources", by_issue.story_document_sources),
    ("i23_text_languages", by_issue.text_languages),
    ("i31_source_texts_keyed", by_issue.source_texts_keyed),
    ("i31_foreign_proofs", by_issue.foreign_proofs),
    ("i28_witnesses", by_issue.witnesses),
    ("i29_evidence_fingerprints", by_issue.evidence_fingerprints),
    ("i29_evidence_credentials", by_issue.evidence_credentials),
    ("i30_tallies_by_round_and_attempt", by_issue.tallies_by_round_and_attempt),
    ("i30_finding_tallies", by_issue.finding_tallies),
    ("i30_case_tallies", by_issue.case_tallies),
    ("i30_log_leaves", by_issue.log_leaves),
    ("i30_visit_list_by_lookups", by_issue.visit_list_by_lookups),
    ("i30_manual_findings_index", by_issue.manual_findings_index),
    ("i30_visits_protocol_by_case", by_issue.visits_protocol_by_case),
    ("i30_request_entries_index", by_issue.request_entries_index),
]

migrations = Migrations("investigate")
for _name, _step in STEPS:
    migrations(name=_name)(_step)
