"""Executing one tool call: validate → request → response → result."""
