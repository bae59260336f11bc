"""`python3 -m tunekit_worker` serves the stdio protocol; `python3 -m tunekit_worker train --params p.json` runs
one training request (handy under torchrun), printing the same events."""

import argparse
import sys


def main(argv=None) -> int:
    from .protocol import run_once, serve
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        return serve()
    parser = argparse.ArgumentParser(prog="python3 -m tunekit_worker")
    parser.add_argument("method", choices=["train", "generate", "score", "merge"])
    parser.add_argument("--params", required=True, help="JSON file with the request params")
    parser.add_argument("--protocol", type=int, default=None,
                        help="the protocol version the caller speaks; another one than the worker's is refused")
    args = parser.parse_args(argv)
    return run_once(args.method, args.params, args.protocol)


if __name__ == "__main__":
    sys.exit(main())
