"""Static files. (Being written: full implementation lands with issue 3.)"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from .app import Digwebs


def register_static_routes(app: Digwebs) -> None:
    return None


def static_url(path: str) -> str:
    from .context import current_app

    return f"{current_app.config['static_url_path']}/{path.lstrip('/')}"


def send_file(path: str, download_name: str | None = None) -> t.Any:
    raise NotImplementedError("send_file lands with issue 3")
