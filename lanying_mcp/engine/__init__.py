"""Running one call: the call value, the dispatch pipeline, the HTTP client, names, changes and undo, state."""
