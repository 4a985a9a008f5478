"""Command line: python -m mnistlib {fetch,info,train,models,evaluate,predict}."""

import sys

from mnistlib.cli import main

sys.exit(main())
