"""perfmodel subcommands (fit,evaluate,predict): being written (issue #15)."""
from __future__ import annotations

import argparse


def add_fit_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run_fit(args: argparse.Namespace) -> int:
    raise NotImplementedError("perfmodel fit")


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run_evaluate(args: argparse.Namespace) -> int:
    raise NotImplementedError("perfmodel evaluate")


def add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run_predict(args: argparse.Namespace) -> int:
    raise NotImplementedError("perfmodel predict")
