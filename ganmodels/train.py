"""``python -m ganmodels.train``: see :mod:`ganmodels.cli.train`."""
from ganmodels.cli.train import main

if __name__ == "__main__":
    raise SystemExit(main())
