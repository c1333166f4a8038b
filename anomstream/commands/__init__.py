"""One module per ``anomstream`` sub-command."""
