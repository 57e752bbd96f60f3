"""`edgebench harness build`: compile the native runner and sampler for an ABI."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = sub.add_parser("build", help="build the runner and sampler (cached by source hash)")
    build.add_argument("--abi", default="host",
                       help="host (gcc, this machine), aarch64-linux (zig), or an Android ABI with --ndk: "
                            "arm64-v8a, armeabi-v7a, x86_64")
    build.add_argument("--ndk", default=None, metavar="PATH", help="Android NDK folder (for Android ABIs)")
    build.add_argument("--force", action="store_true", help="rebuild even when a cached build matches")
    fetch = sub.add_parser("fetch-runtime",
                           help="download LiteRT's libLiteRt.so for a Linux ABI from PyPI (a setup step; "
                                "measurements never download)")
    fetch.add_argument("--abi", default="aarch64-linux", help="aarch64-linux (default)")
    fetch.add_argument("--force", action="store_true", help="download again even when cached")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    if args.action == "fetch-runtime":
        from edgebench.harness.litert_lib import _default_cache_root, fetch_litert_runtime

        path = fetch_litert_runtime(args.abi, cache_root=_default_cache_root(), force=args.force)
        print(f"runtime   {path}")
        return 0

    from edgebench.harness.build import build_harness
    from edgebench.workspace import Workspace

    ws = Workspace.resolve(args.workspace)
    build = build_harness(args.abi, out_root=ws.harness_builds, ndk=Path(args.ndk) if args.ndk else None,
                          force=args.force)
    print(f"abi       {build.abi}")
    print(f"build id  {build.build_id}")
    print(f"runner    {build.runner_path}")
    print(f"sampler   {build.sampler_path}")
    print(f"compiler  {build.compiler}")
    return 0
