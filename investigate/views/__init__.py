"""A case gathered into plain data for any output: the report's figures, tables, charts and map
(as SVG), the service scorecard, the story's timeline. The PDF, the editors' Datasette and the
CLI show the same gathering; nothing here writes or renders a document."""
