"""Settings: the validated model of flags and environment variables, and what the server is configured with."""
