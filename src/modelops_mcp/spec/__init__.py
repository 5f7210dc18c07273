"""The documents read: OpenAPI loading, `x-mcp`, the catalog of operations, flattening, routes and selection."""
