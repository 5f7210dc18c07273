"""Assembling one server process: its working parts from settings, and serving them over a transport."""
