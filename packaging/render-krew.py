#!/usr/bin/env python3
"""packaging/package.sh's helper: workspace facts, archives, checksums and krew manifests.

  render-krew.py version                   the workspace version (Cargo.toml)
  render-krew.py platform TRIPLE           "<os> <arch>" krew calls a Rust target triple
  render-krew.py target-dir                cargo's target directory
  render-krew.py archive --out F --mtime T --member NAME=PATH:MODE...
  render-krew.py checksums DIR             DIR/checksums.txt (sha256sum format) of its archives
  render-krew.py render --mode local|release --name NAME --out F [--dist D] [--checksums C]

Python 3 standard library only. See packaging/README.md.
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import krewlib  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("version")
    p = sub.add_parser("platform")
    p.add_argument("triple")
    sub.add_parser("target-dir")
    p = sub.add_parser("archive")
    p.add_argument("--out", required=True)
    p.add_argument("--mtime", type=int, default=0)
    p.add_argument("--member", action="append", required=True, help="NAME=PATH:MODE (octal)")
    p = sub.add_parser("checksums")
    p.add_argument("dir")
    p = sub.add_parser("render")
    p.add_argument("--mode", choices=("local", "release"), required=True)
    p.add_argument("--name", choices=krewlib.PLUGINS, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--dist", default=os.path.join(krewlib.ROOT, "dist"))
    p.add_argument("--checksums", default=os.path.join(krewlib.ROOT, "packaging", "checksums.txt"))
    args = ap.parse_args()

    if args.cmd == "version":
        print(krewlib.workspace_version())
    elif args.cmd == "platform":
        if args.triple not in krewlib.HOST_TRIPLES:
            raise krewlib.KrewError(
                f"no krew platform for target {args.triple!r}; known: {', '.join(sorted(krewlib.HOST_TRIPLES))}"
            )
        print(*krewlib.HOST_TRIPLES[args.triple])
    elif args.cmd == "target-dir":
        meta = subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"],
            cwd=krewlib.ROOT, check=True, stdout=subprocess.PIPE,
        )
        target_dir = json.loads(meta.stdout)["target_directory"]
        rel = os.path.relpath(target_dir, krewlib.ROOT)
        # Relative and with '/' when inside the repo: bash on Windows (Git Bash) then handles it.
        print(target_dir if rel.startswith("..") else rel.replace(os.sep, "/"))
    elif args.cmd == "archive":
        members = []
        for m in args.member:
            name, sep, rest = m.partition("=")
            path, sep2, mode = rest.rpartition(":")
            if not (sep and sep2 and name and path and mode):
                raise krewlib.KrewError(f"--member {m!r}: expected NAME=PATH:MODE")
            members.append((name, path, int(mode, 8)))
        krewlib.write_archive(args.out, members, args.mtime)
    elif args.cmd == "checksums":
        names = sorted(f for f in os.listdir(args.dir) if f.endswith((".tar.gz", ".zip")))
        if not names:
            raise krewlib.KrewError(f"no archives in {args.dir}")
        out = os.path.join(args.dir, "checksums.txt")
        with open(out + ".tmp", "w", encoding="utf-8", newline="\n") as f:
            for n in names:
                f.write(f"{krewlib.sha256_file(os.path.join(args.dir, n))}  {n}\n")
        os.replace(out + ".tmp", out)
    elif args.cmd == "render":
        text = krewlib.render_manifest(args.name, args.mode, args.dist, args.checksums)
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out + ".tmp", "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(args.out + ".tmp", args.out)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (krewlib.KrewError, OSError, subprocess.CalledProcessError) as e:
        print(f"render-krew.py: error: {e}", file=sys.stderr)
        sys.exit(1)
