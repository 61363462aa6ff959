"""Source readers: one module per kind of source."""
