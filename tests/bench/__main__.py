"""Run every benchmark of this package: each ``bench_*.py`` module's ``main()``, in name order."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import tests.bench


def main() -> int:
    names = sorted(m.name for m in pkgutil.iter_modules(tests.bench.__path__) if m.name.startswith("bench_"))
    for name in names:
        module = importlib.import_module(f"tests.bench.{name}")
        print(f"== {name} ==", flush=True)
        module.main()
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
