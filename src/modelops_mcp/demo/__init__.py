"""`modelops-mcp demo`: the journeys, their steps and the terminal output."""
