"""Talking to the backends over HTTP: clients, base URLs, retries, bounded reads, uploads and downloads."""
