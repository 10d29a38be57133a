"""Generate toy chest X-rays:  python examples/tutorial/generate_data.py DEST [-n 40] [--seed 0]."""

from __future__ import annotations

import argparse
from pathlib import Path

from medperf_core.tutorial.data import generate_raw_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dest", type=Path, help="folder to create images/ and labels/ in")
    parser.add_argument("-n", "--n-images", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    generate_raw_data(args.dest, args.n_images, args.seed)
    print(
        f"wrote {args.n_images} images to {args.dest / 'images'}, labels to {args.dest / 'labels'}"
    )


if __name__ == "__main__":
    main()
