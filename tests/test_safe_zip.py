"""Zips that could harm the server are refused with one sentence, and nothing is stored: zip bombs, lying headers,
passwords, unknown compression, too many files, paths leaving the zip, symbolic links, zips inside the zip."""

import io
import stat
import struct
import zipfile

import pytest

from mnistlib import importing, safe_zip
from tests.test_importing import digit_zip, make_zip, stored_nothing

pytestmark = pytest.mark.usefixtures("data_dir")  # an empty data folder (conftest.py)


def test_a_zip_bomb_is_refused_by_its_declared_size(data_dir):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a/1.png", b"x")
        with archive.open("b/zeros.png", "w", force_zip64=True) as file:
            for _ in range(501):  # 501 MB of zeros: about half a megabyte compressed
                file.write(bytes(1 << 20))
    assert len(buffer.getvalue()) < 10_000_000
    with pytest.raises(ValueError, match=r"would expand to 525 MB; at most 500 MB .*zip bomb"):
        importing.import_file(buffer.getvalue(), "bomb", filename="bomb.zip")
    assert stored_nothing(data_dir)


def test_a_zip_whose_headers_understate_its_size_is_refused(data_dir):
    content = bytearray(make_zip({"a/big.png": bytes(2_000_000), "b/1.png": b"x"}))
    # Claim 100 bytes for the 2 MB member, in its local header and in the central directory.
    content[22:26] = struct.pack("<I", 100)
    central = content.index(b"PK\x01\x02")
    content[central + 24 : central + 28] = struct.pack("<I", 100)
    with pytest.raises(ValueError, match="a/big.png in lying.zip is damaged and cannot be unpacked"):
        importing.import_file(bytes(content), "lying", filename="lying.zip")
    assert stored_nothing(data_dir)


def test_a_password_protected_zip_is_refused(data_dir):
    content = bytearray(make_zip(digit_zip(per_class=5, top="")))
    central = content.index(b"PK\x01\x02")
    content[6] |= 0x1  # the "encrypted" flag of the first member, in its local header and the central directory
    content[central + 8] |= 0x1
    with pytest.raises(ValueError, match="locked.zip is password-protected"):
        importing.import_file(bytes(content), "locked", filename="locked.zip")
    assert stored_nothing(data_dir)


def test_an_unknown_compression_method_is_refused_saying_so(data_dir):
    content = bytearray(make_zip(digit_zip(per_class=5, top="")))
    central = content.index(b"PK\x01\x02")
    content[8:10] = content[central + 10 : central + 12] = struct.pack("<H", 99)  # a method zipfile does not know
    with pytest.raises(ValueError, match="packed with a compression method this server cannot unpack"):
        importing.import_file(bytes(content), "odd", filename="odd.zip")
    assert stored_nothing(data_dir)


def test_too_many_files_are_refused(monkeypatch):
    monkeypatch.setattr(safe_zip, "MAX_MEMBERS", 2_000)  # the same check as at 200,000, ten times faster
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for number in range(safe_zip.MAX_MEMBERS + 1):
            archive.writestr(f"a/{number}.txt", b"")
    with pytest.raises(ValueError, match="holds 2,001 files; at most 2,000 are accepted"):
        importing.read_file(buffer.getvalue(), "many.zip")


@pytest.mark.parametrize("path", ["../evil.png", "a/../../evil.png", "/etc/evil.png", "C:/evil.png", "a\\..\\..\\x.png"])
def test_paths_leaving_the_zip_are_refused(path, data_dir):
    content = make_zip({path: b"x", **digit_zip(per_class=5, top="")})
    with pytest.raises(ValueError, match="points outside the zip"):
        importing.import_file(content, "evil", filename="evil.zip")
    assert stored_nothing(data_dir)


def test_symbolic_links_are_refused(data_dir):
    link = zipfile.ZipInfo("zero/link.png")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(ValueError, match="holds a symbolic link"):
        importing.import_file(buffer.getvalue(), "links", filename="links.zip")
    assert stored_nothing(data_dir)


def test_nested_zips_are_refused_even_in_disguise(data_dir):
    inner = make_zip(digit_zip(per_class=5, top=""))
    for path in ("zero/more.zip", "zero/more.npz", "zero/photo.png"):
        with pytest.raises(ValueError, match="zip inside the zip|is a zip file, not an image"):
            importing.import_file(make_zip({**digit_zip(per_class=5, top=""), path: inner}), "nested",
                                  filename="nested.zip")
    assert stored_nothing(data_dir)
