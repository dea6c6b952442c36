"""`python -m flows.cli` is `lotse`."""

from flows.cli import main

main()
