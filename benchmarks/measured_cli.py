"""Run ``lambda-slim`` and record the CLI process's own peak RSS.

``python measured_cli.py RSS_FILE build ...``: os.wait4 in the benchmark sees the largest
process of the whole tree (pip, compileall, verification included); this also writes the
build process's own ``ru_maxrss`` (KiB) to RSS_FILE at exit.
"""

from __future__ import annotations

import atexit
import resource
import sys
from pathlib import Path


def _record(path: Path) -> None:
    path.write_text(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def main() -> int:
    rss_file = Path(sys.argv[1])
    atexit.register(_record, rss_file)
    from lambda_slim.cli import main as cli_main

    return cli_main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
