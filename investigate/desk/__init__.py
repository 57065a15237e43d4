"""Work between people: bundles a reporter hands on (``bundles``), merging them or another
workspace (``merge``), and the editors' desk at deadline (``overview``)."""
