"""``anomstream demo``: the whole pipeline on the embedded services, with real data."""
