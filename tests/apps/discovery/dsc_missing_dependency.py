import os

import dsc_no_such_dependency_xyz  # noqa: F401

app = os
