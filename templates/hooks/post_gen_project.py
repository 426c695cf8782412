"""Check the generated project and say what was checked, in one line.

Runs inside the new project folder. A non-zero exit makes cookiecutter (and
``digwebs new``) discard the whole project, so a broken template is never
handed to the user. ``digwebs new`` prints what was created and the next
commands after this.
"""

import importlib.util
import os
import sys
from pathlib import Path

project_dir = Path.cwd()
project_name = {{ cookiecutter.project_name|python }}


def fail(message):
    print(f"Error: {message}", file=sys.stderr)
    sys.exit(1)


# 1. Every Python file compiles (compile(), not py_compile: no __pycache__).
for path in sorted(project_dir.rglob("*.py")):
    try:
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    except SyntaxError as exc:
        fail(f"'{path.relative_to(project_dir)}' does not compile: {exc}")

# 2. The application imports and loads its controllers, middlewares and config.
#    Only possible where digwebs is importable, which it is when this hook runs
#    under `digwebs new` (the hook runs with the same Python).
checked = "all Python files compile"
spec = importlib.util.find_spec("digwebs")
if spec is not None and spec.origin is not None:  # not a bare namespace folder
    sys.dont_write_bytecode = True
    sys.path.insert(0, str(project_dir))
    # Check the code, not the user's shell: a DIGWEBS_ENV=production left in
    # the environment would demand a secret key that only production has.
    os.environ["DIGWEBS_ENV"] = "development"
    try:
        import wsgiapp

        routes = getattr(wsgiapp.app, "routes", None)
        count = len(routes()) if callable(routes) else "?"
    except Exception as exc:  # anything the user's code can raise
        first_line = (str(exc).strip().splitlines() or [""])[0]
        fail(f"the new project does not import: {type(exc).__name__}: {first_line}")
    checked += f" and wsgiapp imports ({count} routes)"

print(f"Checked {project_name}: {checked}.")
