"""The WSGI entry point of the {{ cookiecutter.project_slug }} site.

``app`` is the WSGI callable: ``digwebs serve`` and ``gunicorn wsgiapp:app``
both find it here. ``load()`` imports every module in ``controllers/`` and
``middlewares/`` and reads ``config/``, so adding a page means adding a
function to a controller, nothing more.
"""

import os

from digwebs import Digwebs

app = Digwebs(root_path=os.path.dirname(os.path.abspath(__file__))).load()
