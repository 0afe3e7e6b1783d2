"""``python -m newsroom [--port N]``: serve the newsroom until interrupted."""

from __future__ import annotations

import argparse
import time

from palimpsest.newsroom.server import Newsroom


def serve(port: int = 0) -> None:
    with Newsroom(port=port) as newsroom:
        print(f"Newsroom on port {newsroom.port}; story articles:", flush=True)
        for url in newsroom.story_urls():
            print(f"  {url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m newsroom", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on every outlet address (default: a free one)")
    serve(parser.parse_args().port)


if __name__ == "__main__":
    main()
