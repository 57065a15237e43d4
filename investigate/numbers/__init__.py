"""Every figure is computed here once: rates with Wilson intervals, means with bootstrap intervals,
Kaplan–Meier medians, weighted estimates, completion and rounds. Which visits enter a figure
is not decided here: callers pass the publication policy's scope as a flag."""
