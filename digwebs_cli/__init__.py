"""The ``digwebs`` command-line tool: scaffold, serve and inspect projects."""
