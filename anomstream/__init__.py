"""anomstream."""
