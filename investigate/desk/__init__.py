"""Work between people: bundles a reporter hands on and merges of them (teamwork), and the
editors' desk at deadline (overview)."""
