"""Records in and out: official inspections (LIVES, FDA), phone-form exports (Kobo/ODK), and
exports of a case (CSV, JSON, LIVES).

Official records become visits of kind 'official', judged by built-in protocols
(``lives-inspection``, ``fda-compliance-check``) like any visit; they never enter an
undercover rate unless a caller asks for every kind (``stats.case_rates(kind=None)``).
"""
