"""``python -m ganmodels <verb>``: see :mod:`ganmodels.cli.main`."""
from ganmodels.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
