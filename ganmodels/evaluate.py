"""``python -m ganmodels.evaluate``: see :mod:`ganmodels.cli.evaluate`."""
from ganmodels.cli.evaluate import main

if __name__ == "__main__":
    raise SystemExit(main())
