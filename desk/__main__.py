"""`python -m lotse.desk [--host H] [--port P]`: the desk in a process of its own, as `lotse up`
starts it beside Prefect. `lotse desk` is the same for people; this entry point needs nothing of
the command line's (and imports none of `flows/`)."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from lotse.config.settings import Settings
from lotse.states.errors import LotseError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lotse.desk", description=__doc__)
    parser.add_argument("--host", help="address to listen on; default LOTSE_DESK_HOST (127.0.0.1)")
    parser.add_argument("--port", type=int, help="port; default LOTSE_DESK_PORT (4210)")
    args = parser.parse_args(argv)
    try:
        settings = Settings()
        from lotse.desk.server import serve

        serve(settings, args.host or settings.desk_host, args.port or settings.desk_port,
              say=lambda line: print(line, flush=True))
    except LotseError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return exc.exit_code
    except ValidationError as exc:
        error = exc.errors()[0]
        name = "LOTSE_" + "_".join(str(part) for part in error["loc"]).upper()
        print(f"error: setting {name}: {error['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
