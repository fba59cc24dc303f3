"""`python -m msc_ascites trace WHAT` and `python -m msc_ascites verify`, run from the workflow's directory."""

from __future__ import annotations

import argparse
import json
import sys

from .audit.trace import QUERY_FORMS, Trail, trace_text
from .audit.verify import verify, verify_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m msc_ascites")
    parser.add_argument("--results", default="results", help="the results folder of the run (default: results)")
    commands = parser.add_subparsers(dest="command", required=True)
    trace = commands.add_parser("trace", help="follow a result down to the raw rows it came from")
    trace.add_argument("what", help=QUERY_FORMS)
    trace.add_argument("--json", action="store_true", help="print JSON instead of text")
    commands.add_parser("verify", help="recompute every hash against results/manifest.json")
    args = parser.parse_args(argv)
    if args.command == "verify":
        differences, checked = verify(args.results)
        sys.stdout.write(verify_text(differences, checked))
        return 1 if differences else 0
    try:
        found = Trail(args.results).trace(args.what)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(found, indent=2, sort_keys=True) + "\n" if args.json else trace_text(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
