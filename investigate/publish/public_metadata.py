"""Generated Datasette metadata for the public copy: every table and column of the sanitised
database described in a reader's words, the landing text in the cases' language, the licence
and the map's tiles (``metadata.cluster_map``, shared with the editors' instance)."""

from __future__ import annotations

from ..protocol.values import DIMENSIONS
from ..store.workspace import Workspace
from ..views.i18n import translations
from .metadata import cluster_map

PUBLIC_TABLES = {
    "cases": ("Published cases: what was tested, where, under which law, and the headline figures.", {
        "slug": "Case", "title": "Title", "protocol": "Protocol key", "protocol_title": "Protocol",
        "jurisdiction": "Jurisdiction", "legal_basis": "Legal basis", "language": "Language",
        "methodology": "How the test was done", "period_start": "First visit", "period_end": "Last visit",
        "stores_tested": "Stores with at least one completed, approved test", "visits": "Approved visits", "violations": "Violations",
        "violation_rate": "Violations / (violations + compliant)", "ci_low": "95 % Wilson interval, low",
        "ci_high": "95 % Wilson interval, high",
        "completion_rate": "Stores tested / stores the case set out to test (sample or frame)",
        "min_cell": "Smallest group shown (completed tests)", "tester_ages": "Testers' ages (years)",
        "id_policy": "Testers' ID policy", "version": "Version of this publication",
        "published_at": "Date published",
        "checklist_overridden": "1 if the newsroom published although its pre-publication checklist was open"}),
    "stores": ("Stores visited. A store is named only after its right-of-reply window has closed.", {
        "id": "Pseudonym, stable within a case", "case_slug": "Case", "named": "1 if the store is named",
        "name": "Name (empty until its reply window closed)",
        "label": "The name, or the pseudonym the report prints (Store A)", "chain": "Chain", "address": "Address",
        "city": "City", "district": "District", "lat": "Latitude", "lon": "Longitude",
        "official_record": "Official record"}),
    "visits": ("Approved visits, at day precision. The figures per case, round and group are in the rates "
               "table; facet by any column from its menu.", {
        "id": "Row", "case_slug": "Case", "store_id": "Store", "visit_date": "Date",
        "round": "Round", "attempt": "completed, or why no test was possible", "outcome": "Outcome",
        "answers": "Answers to the protocol's yes/no, choice and number questions, as question: answer"}),
    "findings": ("Violations and observations, with statute.", {
        "id": "Row", "case_slug": "Case", "store_id": "Store", "visit_id": "Visit", "visit_date": "Date",
        "code": "Code", "title": "Finding", "statute": "Statute", "severity": "Severity"}),
    "rates": ("Violation rates with 95 % Wilson intervals. Groups smaller than the threshold are merged.", {
        "id": "Row", "case_slug": "Case", "grouping": "Grouped by", "grp": "Group", "visits": "Visits",
        "violations": "Violations", "eligible": "Violations + compliant", "violation_rate": "Rate",
        "ci_low": "95 % interval, low", "ci_high": "95 % interval, high",
        "rate": "Rate as printed in the report (whole percent under 100 tests)",
        "interval": "95 % interval as printed in the report",
        "merged_groups": "Groups merged into this row", "withheld": "1 if too small to show"}),
    "weighted_rates": ("A stratified sample's violation rate weighted for its strata, per round: one test per "
                       "sampled store (its first completed one of the round), strata weighted by their share of "
                       "the frame, the stratified 95 % interval with the finite-population correction.", {
        "id": "Row", "case_slug": "Case", "round": "Round", "headline": "1 for the round the report leads with",
        "stores_tested": "Sampled stores with a result", "strata": "Strata with a result",
        "rate": "Rate as printed in the report", "interval": "95 % interval as printed in the report",
        "violation_rate": "Weighted rate", "ci_low": "95 % interval, low", "ci_high": "95 % interval, high",
        "confidence": "Confidence level"}),
    "design_weights": ("Each store's design weight per round, for its result (its first completed test of the "
                       "round, a violation or compliant): the stratum's frame over its stores with a result in a "
                       "stratified sample, 1 otherwise. Σ weight × violation / Σ weight is the weighted rate.", {
        "id": "Row", "case_slug": "Case", "round": "Round", "store_id": "Store", "weight": "Design weight"}),
    "replies": ("The businesses' answers, verbatim.", {
        "id": "Row", "case_slug": "Case", "store_id": "Store", "requested_date": "Asked on",
        "deadline_date": "Deadline", "answered_date": "Answered on", "answer": "Answer, verbatim"}),
    "evidence_hashes": ("SHA-256 sums of the evidence behind each visit (the files are not published).", {
        "id": "Row", "case_slug": "Case", "visit_id": "Visit", "sha256": "SHA-256", "media_type": "Type"}),
    "corrections": ("Corrections, with their dates.", {
        "id": "Row", "case_slug": "Case", "correction_date": "Date", "note": "Correction"}),
    "complaint_counts": ("Complaints from the public that led to a case, counted per business and issue.", {
        "id": "Row", "case_slug": "Case", "business": "Business", "issue": "Issue", "complaints": "Complaints",
        "first_date": "First received", "last_date": "Last received"}),
    "complaint_stories": ("Complaints whose authors agreed to publication, in their words.", {
        "id": "Row", "case_slug": "Case", "business": "Business", "issue": "Issue",
        "received_date": "Received", "story": "In their words"}),
    "scorecard": ("Customer-service tests: how each company and channel scored, as the service report prints it "
                  "(points out of 100 per dimension, 95 % bootstrap intervals from 5 tests up). A company is named "
                  "only after its right-of-reply window has closed; groups smaller than the threshold are merged.", {
        "id": "Row", "case_slug": "Case",
        "grouping": "Grouped by (all, company, channel, or company,channel)", "company": "Company",
        "channel": "Channel", "tests": "Completed, approved tests",
        "overall": "Overall score (0–100)", "overall_ci_low": "95 % interval, low",
        "overall_ci_high": "95 % interval, high",
        **{k: v for d in DIMENSIONS for k, v in ((d, f"{d.capitalize()} score (0–100)"),
                                                 (f"{d}_ci_low", "95 % interval, low"),
                                                 (f"{d}_ci_high", "95 % interval, high"))},
        "promises_due": "Promises due", "promises_kept": "Kept on time", "promises_late": "Kept late",
        "promises_broken": "Broken, or overdue (due and not kept)", "price_checks": "Price checks",
        "overcharged": "Price checks with an overcharge",
        "response_median": "Median minutes to a response (Kaplan–Meier, open contacts censored)",
        "response_ci_low": "95 % interval, low", "response_ci_high": "95 % interval, high",
        "responses_open": "Contacts still waiting for a response",
        "no_response_days": "Days counted as no response", "no_response": "No response within that many days",
        "no_response_of": "Contacts judged for it", "withheld": "1 if too small to show"}),
    "response_times": ("Customer-service tests: each test's time to a response (phone: to reach a person; "
                       "e-mail: to the first reply; counter: until served), the data behind the report's "
                       "response-time curves. Still open: waited that long without a response so far.", {
        "id": "Row", "case_slug": "Case", "store_id": "Contact point", "company": "Company",
        "channel": "Channel", "visit_date": "Date", "minutes": "Minutes",
        "still_open": "1 if no response yet (a censored time)"}),
    "log_checkpoint": ("The newsroom's signed log checkpoint when this copy was made: with it, anyone can ask "
                       "for a proof that the records behind it were only added to since.", {
        "size": "Entries in the log", "root_hash": "Merkle root (SHA-256, hex)", "made_at": "Signed at (UTC)",
        "public_key": "The newsroom's key (signed-note verifier key)", "note": "The checkpoint (C2SP signed note)"}),
}


def public_metadata(ws: Workspace, cases: list[dict], *, db_name: str = "public") -> dict:
    """Metadata for the public copy: title, licence, source, and the methodology per case."""
    tables = {name: {"description": d, "columns": cols} for name, (d, cols) in PUBLIC_TABLES.items()}
    tables["stores"]["label_column"] = "label"
    tables["cases"]["label_column"] = "title"
    # No default facet on the visits: each counted a million visits through an index on every
    # page load (120 ms each at a million, where the page itself takes 50). The rates table has
    # the figures per case, round and group; a facet is a click away in a column's menu.
    tables["findings"]["facets"] = ["code", "severity"]
    tables["scorecard"]["facets"] = ["grouping"]
    tables["response_times"]["facets"] = ["channel"]
    method = "\n\n".join(f"{c['title']}: {c['description'] or ''}".strip() for c in cases)
    # The landing text in the cases' language (the workspace's when they differ).
    languages = {c["language"] for c in cases}
    _ = translations(languages.pop() if len(languages) == 1 else ws.language).gettext
    meta = {
        "title": _("%(newsroom)s: published investigations") % {"newsroom": ws.newsroom or "investigate"},
        "description": _("Undercover tests as published. Stores are named only after their right of reply; "
                         "groups too small to protect testers and staff are merged.") + "\n\n" + method,
        "license": ws.setting("publish", "licence", "CC BY 4.0"),
        "source": ws.setting("publish", "source", "") or ws.newsroom,
        "databases": {db_name: {"tables": tables}},
        "plugins": {"datasette-cluster-map": cluster_map(ws)},
    }
    url = ws.setting("newsroom", "url", "")
    if url:  # where the report (PDF) and its method are published
        meta.update(about=_("The report and its method"), about_url=url)
    return meta


__all__ = ["PUBLIC_TABLES", "public_metadata"]
