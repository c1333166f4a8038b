"""``python -m anomstream`` is the ``anomstream`` command."""

from anomstream.cli import main

main()
