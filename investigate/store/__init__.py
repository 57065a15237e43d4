"""The workspace on disk: its folder and configuration, the SQLite database with its schema and
migrations, and the one write path that appends every change to the audit chain (single rows
and bulk imports alike). Everything above reads and writes through ``Workspace``; nothing here
knows a case, a protocol or an output."""
