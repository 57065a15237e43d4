"""Generated Datasette metadata for the editors' instance: one description for every table and
column, label columns, facets, sortable columns, canned queries (the public copy's:
``public_metadata``).

To show a new table to editors, add it to ``TABLES`` (a test checks that every table and
column of the schema is described, so a forgotten one fails the suite).
"""

from __future__ import annotations

from .. import policy
from ..vocabulary import OUTCOMES
from ..policy import WORKING
from ..numbers.stats import counted_state_sql
from ..store.workspace import Workspace

TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "cases": ("One investigation each, under one protocol.", {
        "id": "Case id (UUID).", "slug": "Short name used on the command line.", "title": "Title of the case.",
        "protocol": "Protocol the visits follow.", "jurisdiction": "Where the law applies.",
        "legal_basis": "Statute the test checks.", "status": "planning → fieldwork → review → published.",
        "language": "Language of the reports.", "reply_days": "Days a business gets to answer (days).",
        "description": "Method, as printed in the report.", "notes": "Internal notes (never published).",
        "created_at": "When the case was opened.", "parent_case_id": "The case this one retests.",
        "planned_start": "Earliest start of a retest.", "min_cell": "Smallest group shown in public (completed tests).",
        "reply_calendar": "days or working_days: how the reply window is counted.",
        "holidays": "Public holidays skipped in working days (DE-BE, DK…).",
        "kind": "Empty: stores tested under a protocol; story: one person's account (see stories).",
        "texts": "Title and method text in the other languages the case publishes in (JSON by language).",
        "rotation": "The case's own rotation rules (JSON): max visits per store per round, tester lockout days, strict"}),
    "stores": ("Businesses tested: a shop, or a hotline/e-mail with another channel.", {
        "id": "Store id (UUID).", "name": "Name as found (escaped wherever shown).", "chain": "Chain or brand.",
        "licence_number": "Licence or registration number.", "address": "Street address.",
        "postcode": "Postcode.", "city": "City.", "district": "District, for strata and stats.", "state": "State.",
        "country": "Country.", "channel": "in_person, phone, email, web or mail.",
        "contact": "Phone, e-mail or URL for other channels.", "lat": "Latitude (WGS84, degrees).",
        "lon": "Longitude (WGS84, degrees).", "coord_source": "typed, exif, geocoded or import.",
        "coord_precision": "How precise the coordinates are.", "external_id": "Id in the source it came from.",
        "source": "Where the record came from.", "name_key": "Normalised name and address, for matching.",
        "notes": "Internal notes (never published).", "created_at": "When it was added.",
        "company_id": "Company this contact point or branch belongs to."}),
    "companies": ("Companies (the businesses); their hotlines, e-mail addresses, web forms and branches are stores.", {
        "id": "Company id (UUID).", "name": "Name.", "name_key": "Normalised name, for matching.",
        "sector": "Sector (telecom, energy, bank, retail…).", "country": "Country.",
        "notes": "Internal notes (never published).", "created_at": "When it was added."}),
    "testers": ("Protected identities: a code, a birth month and consent. Never a name.", {
        "id": "Tester id (UUID).", "code": "Tester code, e.g. T-07.", "birth_month": "Month of birth (YYYY-MM).",
        "consent": "Written guardian consent on file (1/0).", "consent_date": "Date of consent.",
        "consent_withdrawn_at": "Day the guardian withdrew consent (no test on or after it counts; empty while it holds).",
        "consent_sha256": "SHA-256 of the signed consent form.", "consent_file": "Where the form is kept (internal).",
        "notes": "Internal notes (never published).", "created_at": "When registered."}),
    "visits": ("One test of one store under the case's protocol.", {
        "id": "Visit id (UUID).", "case_id": "Case.", "store_id": "Store tested.", "tester_id": "Tester (internal).",
        "observer": "Adult observer (internal).", "protocol": "Protocol followed.",
        "kind": "undercover (ours) or official (an authority's record).", "visited_at": "Time of the visit (ISO 8601, local).",
        "visited_date": "Date of the visit.", "tester_age": "Tester's age on the day (years).",
        "answers": "Answers to the protocol's questions (JSON).", "outcome": "violation, compliant, inconclusive or not_completed — from the rules.",
        "source": "manual, or the file it was imported from.", "external_ref": "Id in the source.",
        "notes": "Internal notes (never published).", "created_at": "When recorded.", "round": "Round of the case.",
        "attempt": "completed, or why the visit could not be made.", "review_state": "received, has_issues, approved or rejected.",
        "protocol_version": "Version of the protocol that judged it.",
        "protocol_hash": "Content hash of that protocol version (see protocol_versions)."}),
    "findings": ("Violations and observations, most derived from the protocol's rules.", {
        "id": "Finding id.", "visit_id": "Visit.", "code": "Rule code.", "title": "What was found.",
        "statute": "Statute.", "severity": "observation, low, medium, high or critical.",
        "description": "Details.", "source": "rule or manual.", "created_at": "When recorded."}),
    "evidence": ("Photos, audio and scans, stored under their SHA-256 and never modified.", {
        "id": "Evidence id.", "visit_id": "Visit.", "sha256": "SHA-256 of the file (its name in evidence/).",
        "size": "Size (bytes).", "media_type": "Media type.", "original_name": "File name on the camera (internal).",
        "captured_at": "Capture time from EXIF.", "gps_lat": "Latitude from EXIF (degrees).",
        "gps_lon": "Longitude from EXIF (degrees).", "redacted_from": "Original of a redacted copy.",
        "notes": "Internal notes (never published).", "added_at": "When added.",
        "phash": "Perceptual hash of a photo (pHash, 64 bits as hex): finds it again resized or recompressed.",
        "credentials": "C2PA Content Credentials: trusted, valid (signer on no trust list) or invalid; empty: none.",
        "credentials_signer": "Who signed the Content Credentials (the certificate's name; internal).",
        "credentials_issuer": "Who vouches for the signer (the certificate's issuer).",
        "credentials_time": "The signed claim's timestamp, when it carries one.",
        "credentials_failures": "Validation codes that failed."}),
    "promises": ("What a business promised during a test, and whether it was kept.", {
        "id": "Promise id.", "visit_id": "Visit.", "what": "What was promised.", "promised_at": "When.",
        "due_at": "When it was due.", "kept": "1 kept, 0 broken, empty open.", "kept_at": "When it was kept.",
        "note": "Note (internal).", "created_at": "When recorded."}),
    "replies": ("The right of reply: when a business was asked, its deadline and its answer, verbatim.", {
        "id": "Reply id.", "case_id": "Case.", "store_id": "Business.", "requested_at": "When it was asked.",
        "channel": "How it was asked.", "deadline": "Deadline to answer.", "answered_at": "When it answered.",
        "answer_language": "The language the answer is written in (empty: the case's).",
        "answer": "Its answer, verbatim.", "notes": "Internal notes (never published).", "created_at": "When recorded.", "short_deadline_reason": "Why the deadline is shorter than the case's window (printed in the method)."}),
    "case_stores": ("A case's frame: the stores it may test.", {
        "id": "Row id.", "case_id": "Case.", "store_id": "Store.", "stratum": "Stratum for sampling.",
        "added_at": "When added."}),
    "reviews": ("Editors' review decisions on visits.", {
        "id": "Review id.", "visit_id": "Visit.", "state": "State set.", "comment": "Why.",
        "reviewer": "Who (internal).", "at": "When."}),
    "signoffs": ("Sign-offs before publication, e.g. legal review.", {
        "id": "Sign-off id.", "case_id": "Case.", "role": "Role that signed.", "signed_by": "Who (internal).",
        "note": "Note.", "at": "When.", "audit_seq": "The audit entry the sign-off signed: a later change to the case voids it."}),
    "publications": ("Every public file, with its version and SHA-256.", {
        "id": "Publication id.", "case_id": "Case.", "kind": "pdf or database.", "edition": "public or internal.",
        "version": "Version number.", "sha256": "SHA-256 of the file.", "size": "Size (bytes).",
        "path": "Where it was written.", "language": "Language.", "override_reason": "Why the checklist was overridden.",
        "content": "What the file says, whatever its language: editions with the same content share a version.",
        "created_at": "When."}),
    "corrections": ("Corrections to published cases.", {
        "id": "Correction id.", "case_id": "Case.", "note": "The correction.", "created_at": "When.",
        "first_version": "First version that carries it."}),
    "samples": ("Recorded sample draws: enough to draw the same stores again.", {
        "id": "Sample id.", "case_id": "Case.", "method": "simple random or stratified.",
        "strata_column": "Store column that defines the strata.", "seed": "Random seed.",
        "frame_size": "Stores in the frame.", "n": "Stores drawn.", "margin": "Margin of error aimed at.",
        "confidence": "Confidence level.", "expected_rate": "Violation rate assumed for the size.",
        "params": "Other parameters (JSON).", "drawn_at": "When drawn.", "replaces_sample_id": "The draw this one replaced.", "replace_reason": "Why the design changed (printed in the method)."}),
    "sample_stores": ("The stores each sample drew.", {
        "id": "Row id.", "sample_id": "Sample.", "store_id": "Store.", "stratum": "Stratum.",
        "stratum_frame": "Stores of the stratum in the frame.", "stratum_sample": "Stores drawn from the stratum.",
        "selection_probability": "Chance of this store to be drawn."}),
    "geocode_cache": ("Every geocoder answer, found or not, so no address is asked twice.", {
        "query_key": "Normalised query hash.", "query": "Address asked.", "provider": "nominatim or photon.",
        "domain": "Server asked.", "found": "1 if found.", "lat": "Latitude (degrees).", "lon": "Longitude (degrees).",
        "precision": "How precise the answer is.", "display_name": "Address as the geocoder knows it.",
        "raw": "The answer (JSON).", "fetched_at": "When asked."}),
    "near_results": ("Stores within a radius of a place (schools, playgrounds…), from investigate near.", {
        "id": "Row id.", "case_id": "Case.", "store_id": "Store.", "place_name": "Nearest place.",
        "place_kind": "Kind of place.", "place_lat": "Place latitude (degrees).", "place_lon": "Place longitude (degrees).",
        "distance_m": "Geodesic distance (metres).", "radius_m": "Radius used (metres).",
        "places_file": "File the places came from.", "computed_at": "When computed.",
        "approximate": "1 if the store's coordinates are only street-, postcode- or city-precise (near "
                       "--include-approximate): the distance is not from the shop's door."}),
    "tips": ("Tips and complaints about businesses. The source's contact is only on a tip's own page.", {
        "id": "Tip id.", "received_at": "When it came in.",
        "channel": "phone, email, counter, web_form, letter, fax, referral or import.",
        "store_id": "The store it matched.", "chain": "The chain it matched.", "company": "Business as named by the source.",
        "company_key": "Normalised name, for matching.", "product": "Product.", "issue": "Kind of problem.",
        "sub_issue": "Detail of the problem.", "narrative": "What happened, in the person's words.",
        "wants": "What the person wants.", "consent_publish": "1 if the story may be quoted in public.",
        "status": "new, checking, case or dropped.", "case_id": "Case it led to.", "source": "manual, cfpb or a file.",
        "external_id": "Id in the source (e.g. CFPB complaint id).", "state": "State.", "postcode": "Postcode.",
        "match_note": "Why no store or chain was matched.", "created_at": "When recorded.",
        "sub_product": "Sub-product (CFPB).", "tags": "Tags (CFPB: Older American, Servicemember).",
        "sent_to_company_at": "When the complaint was sent to the company.",
        "company_response": "The company's response to the consumer (e.g. Closed with explanation).",
        "company_public_response": "The company's public response, if it gave one.",
        "timely": "1 if the company answered in time, 0 if not, empty when unknown.",
        "disputed": "1 if the consumer disputed the response, 0 if not, empty when unknown."}),
    "tip_sources": ("How to reach the people who gave tips. Private: never published.", {
        "id": "Row id.", "tip_id": "Tip.", "contact": "Contact of the source."}),
    "stories": ("One person's story (a case of kind story): the business, the tip it came from, how the person is "
                "described in print, their consent to be named, and the outcome.", {
        "id": "Story id (UUID).", "case_id": "The story's case.", "company_id": "The business it is about.",
        "tip_id": "The tip it came from.", "person_label": "How the person is described in print.",
        "name_consent": "1 if the person agreed in writing to be named.", "consent_at": "When they agreed.",
        "outcome": "What happened in the end.", "outcome_at": "When.", "created_at": "When opened."}),
    "story_sources": ("The person behind a story: name and contact. Private: never published, never in a bundle "
                      "without --with-sources.", {
        "id": "Row id.", "story_id": "Story.", "name": "The person's name.", "contact": "Phone or e-mail.",
        "address": "Postal address."}),
    "story_document_sources": ("A story document's source material: sender, recipients, the e-mail addresses and "
                               "phone numbers in it. Private like story_sources.", {
        "id": "Row id.", "document_id": "The document.", "sender": "From.", "recipients": "To and Cc.",
        "found": "E-mail addresses and phone numbers in the document, one a line."}),
    "story_events": ("A story's timeline: dated events with their source; a promise made to the person runs on "
                     "the promise clock (overdue counts as broken).", {
        "id": "Event id (UUID).", "case_id": "The story's case.", "at": "When it happened (ISO 8601, local).",
        "what": "What happened, as it may be printed.", "channel": "phone, email, letter, counter, web or in_person.",
        "source": "person, document, newsroom or company.", "promise": "What was promised to the person.",
        "due_at": "When the promise fell due.", "kept": "1 kept, 0 broken, empty: the clock decides.",
        "kept_at": "When it was kept.", "created_at": "When recorded.",
        "language": "The language the text is written in (empty: the case's)."}),
    "story_documents": ("The person's documents: stored under their SHA-256, never modified; an e-mail's date, "
                        "sender and subject and a PDF's text are read from the file.", {
        "id": "Document id (UUID).", "case_id": "The story's case.", "event_id": "The event it belongs to.",
        "sha256": "SHA-256 of the file.", "size": "Bytes.", "media_type": "Media type.",
        "original_name": "File name as received (internal).", "sent_at": "E-mail date, or a photo's capture time.",
        "sender": "E-mail sender (internal).", "subject": "E-mail subject (internal).",
        "text": "Text of the document, for search (internal).", "added_at": "When added."}),
    "story_reply_items": ("Which events of a story each reply request put to the company, hashed like findings: "
                          "an event not covered by a closed request keeps the company unnamed.", {
        "id": "Item id (UUID).", "reply_id": "The request.", "event_id": "Event put to the company.",
        "covered_hash": "SHA-256 of what was put: event time, text, channel, source, promise and due time.",
        "created_at": "When the request was recorded."}),
    "protocol_versions": ("Every protocol version a visit was judged by, kept with its TOML text so that old "
                          "visits are shown, amended and judged again by their own rules.", {
        "id": "The content hash.", "key": "Protocol key.", "version": "Version number declared in the file.",
        "content_hash": "SHA-256 of the protocol's content (canonical JSON, without translations).",
        "text": "The protocol's TOML text (when it was first used is in the audit log)."}),
    "visit_tallies": ("Visits counted per case, kind, store, outcome, review state, round and attempt, kept by "
                      "triggers: what the rate, completion and round queries read instead of every visit. Derived "
                      "from visits.", {
        "case_id": "Case.", "kind": "undercover or official.", "store_id": "Store.", "outcome": "Outcome.",
        "review_state": "Review state (received when none).", "round": "Round (1 when none).",
        "attempt": "Attempt (completed when none).", "visits": "Visits with these values."}),
    "case_tallies": ("The visit tallies summed per case, without the store, kept by triggers: what a case's "
                     "rate is summed from. Derived from visit_tallies.", {
        "case_id": "Case.", "kind": "undercover or official.", "outcome": "Outcome.",
        "review_state": "Review state (received when none).", "round": "Round (1 when none).",
        "attempt": "Attempt (completed when none).", "visits": "Visits with these values."}),
    "finding_tallies": ("Findings counted per case, store, kind and review state of their visit, kept by "
                        "triggers: what the case page and the naming read instead of walking every finding. "
                        "Derived from findings.", {
        "case_id": "Case.", "store_id": "Store.", "kind": "undercover or official.",
        "review_state": "Review state of the visits (received when none).",
        "findings": "Findings on those visits."}),
    "log_nodes": ("The audit log as an RFC 6962 Merkle tree: its perfect subtrees of 1,024 entries and more, "
                  "stored as the log grows (the smaller ones are hashed again from log_leaves). Derived from "
                  "audit_log; verify recomputes it and never trusts it.", {
        "level": "Height of the subtree (10 = 1,024 entries)", "idx": "Position at that height",
        "hash": "SHA-256 of the subtree (node: 0x01 prefix)"}),
    "log_leaves": ("The Merkle tree's leaves, 1,024 entries to a row: each entry's leaf hash (SHA-256 with a "
                   "0x00 prefix), 32 bytes each, in the order of the log. Derived from audit_log.", {
        "run": "Which 1,024 entries (run 0: entries 1 to 1,024)", "hashes": "Their leaf hashes, 32 bytes each"}),
    "log_checkpoints": ("Every signed checkpoint of the log this workspace made: for a publication, a "
                        "letter, a bundle, or by hand.", {
        "id": "Row", "size": "Entries in the log", "root_hash": "Merkle root (hex)", "note": "The signed note",
        "made_at": "Signed at (UTC)", "purpose": "What it was made for", "tsa_url": "Timestamp authority",
        "tsa_token": "RFC 3161 timestamp token (DER)", "stamped_at": "Time the authority vouched for"}),
    "witnessed_logs": ("Other newsrooms' logs this workspace witnesses ('investigate witness trust'), and the "
                       "checkpoint it last cosigned for each: it cosigns only an append-only extension of it.", {
        "id": "Row", "origin": "The log's origin line", "verifier_key": "The log's signed-note verifier key",
        "size": "Size of the checkpoint last cosigned (0: none yet)", "root_hash": "Its Merkle root (base64)",
        "note": "The checkpoint last cosigned", "trusted_at": "Witnessed since (UTC)",
        "cosigned_at": "Last cosigned at (UTC)"}),
    "log_witnesses": ("The witnesses this workspace asks to cosign its checkpoints ('investigate witness use', "
                      "'checkpoint --witness') and whose cosignatures 'verify --witnesses' counts.", {
        "id": "Row", "name": "The witness's name (its key name)", "verifier_key": "Its cosignature verifier key",
        "url": "Where it is asked (its add-checkpoint prefix)", "added_at": "Trusted since (UTC)"}),
    "reply_items": ("What each reply request put to the business: its visits and findings, with a hash of what "
                    "would be printed. A finding not covered by a closed request keeps the business unnamed.", {
        "id": "Item id (UUID).", "reply_id": "The request.", "visit_id": "Visit put to the business.",
        "finding_id": "Finding put to the business (empty: the visit itself).",
        "covered_hash": "SHA-256 of what was put: store, visit time, finding code, title, statute, severity.",
        "created_at": "When the request was recorded."}),
    "workspace_meta": ("This workspace's identity.", {"key": "Setting.", "value": "Value."}),
    "foreign_audit": ("Audit chains of other workspaces merged into this one, kept verifiable.", {
        "origin": "Workspace the chain comes from.", "seq": "Position in that chain.", "at": "When (UTC).",
        "actor": "Who.", "action": "What.", "table_name": "Table written.", "row_id": "Row written.",
        "row_hash": "SHA-256 of the row as written.", "data": "Details (JSON).", "prev_hash": "Previous link.",
        "hash": "This link."}),
    "foreign_proofs": ("What proves the entries of a merged bundle's audit log without the rest of its log.", {
        "id": "Row id.", "origin": "Workspace the entries come from.", "checkpoint": "Its signed checkpoint.",
        "seqs": "The entries proven (JSON list of positions).",
        "proof": "Hashes of the log's other subtrees (JSON list, base64).", "merged_at": "When merged."}),
    "merge_conflicts": ("Rows a merge found with the same id and different content: listed, never overwritten.", {
        "id": "Row id.", "origin": "Workspace the other version comes from.", "table_name": "Table.",
        "row_id": "Row.", "ours_hash": "Hash of our version.", "theirs_hash": "Hash of theirs.",
        "theirs": "Their version (JSON).", "detected_at": "When found.",
        "held_for": "The conflicting visit this row of theirs belongs to: held back, not attached to ours.",
        "children": "Their findings and promises of the conflicting visit (JSON list of table:id).",
        "resolved_at": "When an editor picked a version (merge resolve); empty while open.",
        "resolution": "ours or theirs.", "resolved_by": "Who picked it."}),
    "audit_log": ("The hash-chained audit log: every write, in order. Checked by investigate verify.", {
        "seq": "Position in the chain.", "at": "When (UTC).", "actor": "Who.", "action": "What.",
        "table_name": "Table written.", "row_id": "Row written.", "row_hash": "SHA-256 of the row as written.",
        "data": "The row, or old and new values and the reason (JSON).", "prev_hash": "Previous link.",
        "hash": "This link."}),
}
HIDDEN = {"audit_log", "case_stores", "_sqlite_migrations", "geocode_cache", "sample_stores", "tip_sources",
          "story_sources", "story_document_sources",
          "workspace_meta", "foreign_audit", "foreign_proofs", "visit_tallies",
          "case_tallies", "finding_tallies", "log_leaves"}
LABELS = {"cases": "slug", "stores": "name", "testers": "code", "visits": "visited_at", "findings": "title",
          "evidence": "sha256", "promises": "what", "replies": "deadline", "reviews": "state", "tips": "company",
          "companies": "name", "story_events": "what", "story_documents": "sha256"}
FACETS = {
    # None on visits: a default facet counts every row of the largest table through an index on
    # every page load (some 70 ms each at a million visits), and Datasette counts a default facet
    # twice when it is also asked for. Each is a click away ("Facet by this"); the case page
    # shows outcomes and review states, the rate query the figures.
    "visits": [],
    "stores": ["chain", "district", "channel"],
    "findings": ["code", "severity"],
    "cases": ["status", "protocol"],
    "promises": ["what", "kept"],
    "tips": ["channel", "status", "company", "issue"],
}
#: Datasette units (Pint names): shown with the value, and convertible in the table view.
UNITS = {"near_results": {"distance_m": "m", "radius_m": "m"}, "evidence": {"size": "byte"},
         "cases": {"reply_days": "day"}, "visits": {"tester_age": "year"}}
SORT = {"tips": "received_at", "near_results": "distance_m", "visits": "visited_at", "findings": "created_at", "audit_log": "seq", "promises": "due_at",
        "replies": "deadline"}

# Which visits count is the publication policy's: the editors' working scope (every visit not
# rejected), with the number still provisional (not yet approved) beside each figure.
_WORKING = policy.visit_sql(WORKING)

RATE_BY_CHAIN = f"""
with per_store as (
  -- from visit_tallies, the visits counted per store, outcome and review state by triggers
  -- (schema.visit_tallies): tens of thousands of rows for a million visits, under the same
  -- condition as investigate.stats
  select v.store_id, sum(v.visits) as visits, sum(v.visits * (v.outcome = 'violation')) as violations,
    sum(v.visits * (v.outcome in ('violation', 'compliant'))) as eligible,
    sum(v.visits * (v.review_state != 'approved')) as provisional
  from visit_tallies v
  where v.case_id = (select id from cases where slug = :case) and {_WORKING}
  group by v.store_id
)
select coalesce(s.chain, '(independent)') as chain,
  sum(p.visits) as visits,
  sum(p.violations) as violations,
  sum(p.eligible) as eligible,
  round(investigate_rate(sum(p.violations), sum(p.eligible)), 4) as rate,
  round(investigate_ci_low(sum(p.violations), sum(p.eligible)), 4) as ci_low,
  round(investigate_ci_high(sum(p.violations), sum(p.eligible)), 4) as ci_high,
  sum(p.provisional) as provisional
from per_store p join stores s on s.id = p.store_id
group by 1 order by 1
"""

# The report's map order (reports/gather.py): a store shows the worst outcome of its visits.
# Counted from visit_tallies, as the rates by chain are: a few rows per store, not every visit
# (a million-visit case's map read every visit on each load).
_WORST_OUTCOME = "case " + " ".join(f"when sum(v.visits * (v.outcome = '{o}')) > 0 then '{o}'" for o in OUTCOMES) + \
    " else 'not_completed' end"
STORE_MAP = f"""
select s.id as store_id, s.name, s.chain, s.address, s.lat, s.lon, sum(v.visits) as visits,
  sum(v.visits * (v.outcome = 'violation')) as violations, {_WORST_OUTCOME} as outcome
from visit_tallies v join stores s on s.id = v.store_id
where v.case_id = (select id from cases where slug = :case) and {_WORKING} and s.lat is not null and s.lon is not null
group by s.id order by violations desc, s.name
"""

# Each test's scores and each contact's clock are Python functions of its answers. The tests are
# those `scorecard` counts (the working scope: rejected and voided ones left out), each scored by
# the protocol version that judged it. The scorecard is one aggregate over the case's tests
# (`investigate_service_card`), which scores each once and gives every group's figures as JSON;
# the reply times are one aggregate too (`investigate_response_card`), each contact's clock read
# once and each channel's Kaplan–Meier figures as JSON. Each answer is kept while it holds
# (`investigate_kept`, which `coalesce` asks first: SQLite reads the tests only without it).
SERVICE_DIMENSIONS = ("courtesy", "respect", "commitment", "honesty", "resolution", "overall")
SERVICE_SCORECARD = """
with card as (
  select coalesce(investigate_kept('service_scorecard', (select id from cases where slug = :case)), (
    select investigate_service_card(v.case_id, v.id, coalesce(c.name, s.chain, s.name), s.channel, v.protocol,
      v.protocol_hash, v.answers)
    from visits v join stores s on s.id = v.store_id left join companies c on c.id = s.company_id
    where v.case_id = (select id from cases where slug = :case) and """ + _WORKING + """
      and coalesce(v.attempt, 'completed') = 'completed')) as groups
)
select json_extract(g.value, '$.company') as company, json_extract(g.value, '$.channel') as channel,
  json_extract(g.value, '$.tests') as tests,
""" + ",\n".join(
    f"  round(json_extract(g.value, '$.{d}.mean'), 1) as {d},\n"
    f"  round(json_extract(g.value, '$.{d}.ci_low'), 1) as {d}_ci_low,\n"
    f"  round(json_extract(g.value, '$.{d}.ci_high'), 1) as {d}_ci_high"
    for d in SERVICE_DIMENSIONS
) + "\nfrom card, json_each(card.groups) g order by 1, 2"

RESPONSE_TIMES = """
with times as (
  select coalesce(investigate_kept('response_times', (select id from cases where slug = :case)), (
    select investigate_response_card(v.case_id, s.channel, v.protocol, v.protocol_hash, v.answers)
    from visits v join stores s on s.id = v.store_id
    where v.case_id = (select id from cases where slug = :case) and """ + _WORKING + """
      and coalesce(v.attempt, 'completed') = 'completed')) as channels
)
select json_extract(g.value, '$.channel') as channel, json_extract(g.value, '$.n') as n,
  round(json_extract(g.value, '$.median'), 1) as median_minutes,
  round(json_extract(g.value, '$.ci_low'), 1) as ci_low,
  round(json_extract(g.value, '$.ci_high'), 1) as ci_high,
  json_extract(g.value, '$.open') as still_open
from times, json_each(times.channels) g order by 1
"""

CANNED = {
    "service_scorecard": {
        "title": "Service scorecard by company and channel (mean score of 100, 95 % bootstrap interval)",
        "sql": SERVICE_SCORECARD,
        "description": "Scores from each test's protocol (N/A left out, fatal answers zero their section, overdue "
                       "promises count as broken); means and intervals from investigate.stats, as "
                       "`investigate scorecard CASE --by company,channel` prints them."},
    "response_times_by_channel": {
        "title": "Median time to a response by channel (Kaplan–Meier, open contacts censored)",
        "sql": RESPONSE_TIMES,
        "description": "Phone: time to reach a person; e-mail: time to first reply; counter: time until served. "
                       "Contacts still waiting count as censored times (scipy.stats.ecdf), never dropped."},
    "rate_by_chain": {"title": "Violation rate by chain, with 95 % Wilson interval", "sql": RATE_BY_CHAIN,
                      "description": "Numbers from investigate.stats over the policy's working scope: rejected "
                                     "visits never count; 'provisional' counts visits not yet approved. "
                                     "Inconclusive visits and attempts not made are not in the denominator."},
    "store_map": {"title": "A case's stores on the map, by their worst outcome", "sql": STORE_MAP,
                  "description": "One pin per store with coordinates, coloured by the worst outcome of its visits "
                                 "in the policy's working scope (violation, inconclusive, compliant, not completed), "
                                 "as the report's map draws them."},
    "stores_sold_more_than_once": {"title": "Stores that sold more than once", "sql": f"""
select s.name, s.chain, s.address, count(*) as sales, group_concat(substr(v.visited_at, 1, 10), ', ') as dates
from visits v join stores s on s.id = v.store_id
where v.outcome = 'violation' and {_WORKING}
group by s.id having count(*) > 1 order by sales desc, s.name"""},
    "overdue_promises": {"title": "Overdue promises", "sql": """
select p.what, p.due_at, s.name as store, c.slug as case_slug, p.visit_id
from promises p join visits v on v.id = p.visit_id join stores s on s.id = v.store_id join cases c on c.id = v.case_id
where p.kept is null and julianday(p.due_at) < julianday(investigate_now()) order by p.due_at"""},
    "open_reply_deadlines": {"title": "Open right-of-reply deadlines", "sql": """
select c.slug as case_slug, s.name as store, r.requested_at, r.deadline, r.channel, r.store_id
from replies r join stores s on s.id = r.store_id join cases c on c.id = r.case_id
where r.answered_at is null and julianday(r.deadline) > julianday(investigate_now()) order by r.deadline"""},
    "story_timeline": {"title": "A story's timeline (events, our checks, the enquiry, the answer, the outcome)",
                       "sql": """
select at, source, channel, what, promise, due_at,
  case when promise is null then null when kept = 1 then case when julianday(kept_at) > julianday(due_at)
    then 'late' else 'kept' end when kept = 0 then 'broken' when julianday(due_at) < julianday(investigate_now()) then 'overdue'
    else 'pending' end as promise_state,
  documents
from (
  select e.at, e.source, e.channel, e.what, e.promise, e.due_at, e.kept, e.kept_at,
    (select count(*) from story_documents d where d.event_id = e.id) as documents
  from story_events e where e.case_id = (select id from cases where slug = :case)
  union all
  select v.visited_at, 'newsroom', s.channel, 'our check: ' || v.protocol || ', ' || v.outcome, null, null, null, null, 0
  from visits v join stores s on s.id = v.store_id
  where v.case_id = (select id from cases where slug = :case) and """ + counted_state_sql("v") + """
  union all
  select distinct r.requested_at, 'newsroom', r.channel, 'asked the company, deadline ' || substr(r.deadline, 1, 10),
    null, null, null, null, 0 from replies r where r.case_id = (select id from cases where slug = :case)
  union all
  select distinct r.answered_at, 'company', null, r.answer, null, null, null, null, 0
  from replies r where r.case_id = (select id from cases where slug = :case) and r.answered_at is not null
  union all
  select st.outcome_at, 'outcome', null, st.outcome, null, null, null, null, 0
  from stories st where st.case_id = (select id from cases where slug = :case) and st.outcome is not null
) order by julianday(at)""",
                       "description": "The same timeline as the one-case report; a promise past due and not marked "
                                      "is overdue and counts as broken (the promise clock)."},
    "visits_per_tester_per_week": {"title": "Visits per tester per week", "sql": """
select t.code as tester, strftime('%Y-W%W', v.visited_at) as week, count(*) as visits
from visits v join testers t on t.id = v.tester_id
group by 1, 2 order by 2 desc, 3 desc"""},
}
# An editor opens a query for its answer: the SQL is one click away ("show"), not the first screen.
for _query in CANNED.values():
    _query.setdefault("hide_sql", True)


VIEWS = {
    "visit_list": {"description": "Every visit by name: case, store, chain, district, answers as lines. "
                                  "Facet by chain here; open a visit from its time.",
                   # Counted from the visit tallies while the filters allow (facets.TallyFacet).
                   "facets": [{"tally": c} for c in ("case_slug", "chain", "outcome", "review_state")],
                   "sort_desc": "visited_at"},
}


def editors_metadata(ws: Workspace, *, db_name: str = "investigate", password_hash_env: str | None = None,
                     require_login: bool = False, legacy_password: bool = False) -> dict:
    """Metadata for the editors' instance over the workspace database."""
    present = set(ws.db.table_names())
    tables = {}
    for name, (description, columns) in TABLES.items():
        if name not in present:
            continue
        spec = {"description": description, "columns": columns}
        if name in LABELS:
            spec["label_column"] = LABELS[name]
        if name in FACETS:
            spec["facets"] = FACETS[name]
        if name in SORT:
            spec["sort_desc"] = SORT[name]
        if name in UNITS:
            spec["units"] = UNITS[name]
        if name in HIDDEN:
            spec["hidden"] = True
        tables[name] = spec
    for name in present - set(TABLES):
        tables.setdefault(name, {"hidden": name.startswith("_")})
    tables.update({name: dict(spec) for name, spec in VIEWS.items() if name in ws.db.view_names()})
    plugins = {"investigate": {"workspace": str(ws.root)}, "datasette-cluster-map": cluster_map(ws)}
    meta = {
        "title": f"{ws.newsroom or 'investigate'} — investigations (editors)",
        "description": "Every case, visit, finding and piece of evidence. Internal: not for publication.",
        "databases": {db_name: {"tables": tables, "queries": CANNED}},
        "plugins": plugins,
    }
    if require_login:
        # The people's accounts come from publish.accounts at each login; the older shared
        # password, where one is still set, logs in as "editor" and only reads.
        plugins["datasette-auth-passwords"] = {
            "editor_password_hash": {"$env": password_hash_env or "INVESTIGATE_EDITOR_PASSWORD_HASH"},
        } if legacy_password else {}
        # Every page, every database and arbitrary SQL need a logged-in actor.
        meta["allow"] = {"id": "*"}
        meta["allow_sql"] = {"id": "*"}
    return meta


#: A transparent tile, as a data URI: without a tile server of the newsroom's own, the map
#: draws its pins on an empty ground and asks nobody for tiles (datasette-cluster-map would
#: otherwise fetch OpenStreetMap's, telling a third party which places the editors look at).
BLANK_TILE = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
              "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


def cluster_map(ws: Workspace) -> dict:
    """datasette-cluster-map's settings: our columns, and tiles only from ``[map] tile_url``."""
    tile_url = ws.setting("map", "tile_url", "")
    settings = {"latitude_column": "lat", "longitude_column": "lon", "tile_layer": tile_url or BLANK_TILE}
    attribution = ws.setting("map", "attribution", "") if tile_url else \
        "no tile server set ([map] tile_url in investigate.toml)"
    settings["tile_layer_options"] = {"attribution": attribution, "maxZoom": 19}
    return settings
