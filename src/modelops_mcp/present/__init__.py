"""What a model is shown of the catalog: lean schemas and text, portable types, search ranking."""
