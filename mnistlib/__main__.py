"""Command line: python -m mnistlib {fetch,info,train,continue,models,evaluate,predict,…}."""

import sys

from mnistlib.cli import main

sys.exit(main())
