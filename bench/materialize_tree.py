#!/usr/bin/env python3
"""Write the tree of one commit of a git repository into a folder, for the
analyze benchmarks (bench/analyze_vs_nixpacks.sh).

Usage: bench/materialize_tree.py GIT_DIR DEST [REV]

Like `git archive REV | tar -x -C DEST`, but a blob missing from the object
store (a partial or size-capped mirror keeps its largest files out) becomes
an empty file instead of aborting, so the file count and layout stay those of
the commit. Symlinks are written as symlinks, submodules are skipped.
"""
import os
import subprocess
import sys


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print("usage: materialize_tree.py GIT_DIR DEST [REV]", file=sys.stderr)
        return 2
    git_dir, dest = sys.argv[1], sys.argv[2]
    rev = sys.argv[3] if len(sys.argv) == 4 else "HEAD"
    listing = subprocess.run(
        ["git", "--git-dir", git_dir, "ls-tree", "-r", "-z", "--full-tree", rev],
        check=True, capture_output=True).stdout
    entries = []
    for rec in listing.split(b"\0"):
        if not rec:
            continue
        meta, path = rec.split(b"\t", 1)
        mode, kind, oid = meta.split()
        if kind != b"blob":
            continue  # submodule (commit) entries
        entries.append((mode, oid, path))
    cat = subprocess.Popen(["git", "--git-dir", git_dir, "cat-file", "--batch"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    missing = 0
    for mode, oid, path in entries:
        cat.stdin.write(oid + b"\n")
        cat.stdin.flush()
        header = cat.stdout.readline()
        if header.endswith(b" missing\n"):
            data = b""
            missing += 1
        else:
            size = int(header.split()[2])
            data = cat.stdout.read(size)
            cat.stdout.read(1)  # the newline after the object
        target = os.path.join(os.fsencode(dest), path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if mode == b"120000":
            if not os.path.lexists(target):
                os.symlink(data, target)
            continue
        with open(target, "wb") as f:
            f.write(data)
        if mode == b"100755":
            os.chmod(target, 0o755)
    cat.stdin.close()
    cat.wait()
    print(f"{dest}: {len(entries)} entries, {missing} missing blobs written empty")
    return 0


if __name__ == "__main__":
    sys.exit(main())
