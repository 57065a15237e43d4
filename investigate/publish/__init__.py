"""Datasette: the editors' instance over the workspace, and the sanitised public copy."""
