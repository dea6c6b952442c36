"""`python -m flows.cli` is `lotse`."""

from lotse.flows.cli import main

main()
