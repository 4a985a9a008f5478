"""The command-line interface: each command is one small function over the library."""

import argparse
import sys

from mnistlib import datasets


def progress_bar(done: int, total: int, message: str) -> None:
    """Draw a one-line progress bar on stderr (bytes when the total is known, a message otherwise)."""
    if total:
        width = 30
        filled = int(width * min(done / total, 1.0))
        sys.stderr.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done / total:4.0%} {message[:50]:<50}")
        if done >= total:
            sys.stderr.write("\n")
    else:
        sys.stderr.write(f"\r  {message[:80]:<80}\n")
    sys.stderr.flush()


def command_fetch(arguments) -> int:
    names = [arguments.dataset] if arguments.dataset else datasets.available()
    for name in names:
        folder = datasets.fetch(name, progress=progress_bar)
        print(f"{datasets.info(name).title}: verified in {folder}")
    return 0


def command_info(arguments) -> int:
    names = [arguments.dataset] if arguments.dataset else datasets.available()
    for name in names:
        data = datasets.load(name, subset=arguments.subset)
        print(f"{data.title} ({name}, {data.subset})")
        print(f"  training images: {data.x_train.shape}, {data.x_train.dtype}")
        print(f"  training labels: {len(data.y_train)}")
        print(f"  test images:     {data.x_test.shape}, {data.x_test.dtype}")
        print(f"  test labels:     {len(data.y_test)}")
        print(f"  classes:         {', '.join(data.class_names)}")
    return 0


def command_make_subset(arguments) -> int:
    names = [arguments.dataset] if arguments.dataset else datasets.available()
    from mnistlib import subset

    for name in names:
        print(name, subset.write_small(name))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mnistlib", description="MNIST Lab's model library.")
    commands = parser.add_subparsers(dest="command", required=True)

    fetch = commands.add_parser("fetch", help="download and verify the datasets")
    fetch.add_argument("--dataset", choices=datasets.available())
    fetch.set_defaults(run=command_fetch)

    info = commands.add_parser("info", help="shapes of the training and test sets")
    info.add_argument("--dataset", choices=datasets.available())
    info.add_argument("--subset", choices=("full", "small"))
    info.set_defaults(run=command_info)

    make_subset = commands.add_parser("make-subset", help="rebuild the committed small subset")
    make_subset.add_argument("--dataset", choices=datasets.available())
    make_subset.set_defaults(run=command_make_subset)
    return parser


def main(argv=None) -> int:
    """Run one command; errors become one line on stderr and exit status 1."""
    arguments = build_parser().parse_args(argv)
    try:
        return arguments.run(arguments)
    except (ValueError, LookupError, RuntimeError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
