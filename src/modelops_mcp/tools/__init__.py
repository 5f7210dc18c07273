"""Schema → tool, and executing a tool call."""
