"""Uploaded files (digwebs.uploads.FileStorage): reading and saving them."""

from __future__ import annotations

import io

from digwebs import request
from digwebs.uploads import FileStorage


def test_uploaded_file_stream_and_save_to_file_object(app, client):
    @app.post("/up")
    def up():
        f = request.files["f"]
        out = io.BytesIO()
        f.save(out)
        return [f.stream.read().decode(), out.getvalue().decode(), f.name]

    data = b"\x00\x01binary" * 1000
    r = client.post("/up", files={"f": ("b.bin", data)})
    assert r.json == ["", data.decode(), "f"]


# -- FileStorage.save accepts os.PathLike (item 29) -----------------------------


def test_upload_saves_to_a_pathlib_path(app, client, tmp_path):
    target = tmp_path / "saved.bin"

    @app.post("/up")
    def up():
        request.files["f"].save(target)
        return "ok"

    assert client.post("/up", files={"f": ("b.bin", b"payload")}).text == "ok"
    assert target.read_bytes() == b"payload"


def test_file_storage_saves_to_a_pathlib_path(tmp_path):
    upload = FileStorage(io.BytesIO(b"data"), "a.txt", "f", "text/plain")
    upload.read()
    upload.save(tmp_path / "out.txt")
    assert (tmp_path / "out.txt").read_bytes() == b"data"
    upload.save(str(tmp_path / "out2.txt"))
    assert (tmp_path / "out2.txt").read_bytes() == b"data"
