"""Day windows: the store interface, its Redis and in-memory backends, key layout."""
