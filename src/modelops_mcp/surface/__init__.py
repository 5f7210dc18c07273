"""The MCP surface: handlers, tool listing, search mode, tasks, resources, prompts, subscriptions, transports."""
