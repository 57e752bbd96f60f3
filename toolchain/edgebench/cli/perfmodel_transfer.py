"""perfmodel subcommands (transfer,suggest): being written (issue #15)."""
from __future__ import annotations

import argparse


def add_transfer_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run_transfer(args: argparse.Namespace) -> int:
    raise NotImplementedError("perfmodel transfer")


def add_suggest_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run_suggest(args: argparse.Namespace) -> int:
    raise NotImplementedError("perfmodel suggest")
