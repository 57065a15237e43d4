"""investigate: record undercover consumer tests, check them, publish them fairly and provably."""

__version__ = "0.1.0"
