"""The one file hasher."""

from __future__ import annotations

import hashlib

from qjlib.core.files import sha256_file


def test_sha256_file_is_the_hex_digest_of_the_bytes(tmp_path):
    data = bytes(range(256)) * 9000  # > 2 MiB: read in several chunks
    p = tmp_path / "a.bin"
    p.write_bytes(data)
    assert sha256_file(p) == hashlib.sha256(data).hexdigest()
    assert sha256_file(str(p)) == sha256_file(p)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert sha256_file(empty) == hashlib.sha256(b"").hexdigest()
