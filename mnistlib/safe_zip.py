"""Zip files from anyone, read safely: the directory is checked before anything is unpacked, bytes are counted
while unpacking (headers can lie), members are read into memory one at a time and nothing is written to disk."""

import stat
import zipfile
import zlib

MAX_TOTAL_BYTES = 500_000_000  # uncompressed bytes of all members together (a zip bomb stops here)
MAX_MEMBERS = 200_000


class ArchiveError(ValueError):
    """A zip that is refused, with one sentence saying why."""


class SafeZip:
    """A zip opened for reading, refused (ArchiveError) for too many members or bytes, paths leaving it,
    symbolic links or a password."""

    def __init__(self, content, filename: str):
        self.filename, self.unpacked = filename, 0
        try:
            self.archive = zipfile.ZipFile(content)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
            raise ArchiveError(f"{filename} is not a zip file that can be read ({error}).") from error
        try:
            self._check_directory()
        except ArchiveError:
            self.archive.close()
            raise

    def __repr__(self):
        return f"SafeZip({self.filename!r}, members={len(self.archive.infolist())})"

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.archive.close()

    def members(self) -> list[zipfile.ZipInfo]:
        """Every entry (files and folders) in the zip's order."""
        return self.archive.infolist()

    def _check_directory(self) -> None:
        members = self.archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise ArchiveError(f"{self.filename} holds {len(members):,} files; at most {MAX_MEMBERS:,} are accepted.")
        declared = sum(member.file_size for member in members)
        if declared > MAX_TOTAL_BYTES:
            raise ArchiveError(f"{self.filename} would expand to {declared / 1e6:,.0f} MB; at most "
                               f"{MAX_TOTAL_BYTES / 1e6:,.0f} MB are accepted (is it a zip bomb?).")
        for member in members:
            path = member.filename.replace("\\", "/")
            if path.startswith("/") or (len(path) > 1 and path[1] == ":") or ".." in path.split("/"):
                raise ArchiveError(f"{self.filename} holds a file that points outside the zip "
                                   f"({member.filename!r}); such a zip is refused.")
            if stat.S_ISLNK(member.external_attr >> 16):
                raise ArchiveError(f"{self.filename} holds a symbolic link ({member.filename!r}); put the files "
                                   "themselves in the zip.")
            if member.flag_bits & 0x1:
                raise ArchiveError(f"{self.filename} is password-protected; make a zip without a password.")

    def read(self, member: zipfile.ZipInfo, limit: int) -> bytes:
        """The member's bytes, at most limit of them; ArchiveError when it is larger or damaged."""
        if member.file_size > limit:
            raise ArchiveError(f"{member.filename} is {member.file_size / 1e6:,.1f} MB; files up to "
                               f"{limit / 1e6:,.0f} MB are accepted.")
        chunks, size = [], 0
        try:
            with self.archive.open(member) as file:
                while chunk := file.read(1 << 20):
                    size, self.unpacked = size + len(chunk), self.unpacked + len(chunk)
                    if size > limit or self.unpacked > MAX_TOTAL_BYTES:
                        raise ArchiveError(f"{self.filename} unpacks to more than its headers say; it is refused "
                                           "(is it a zip bomb?).")
                    chunks.append(chunk)
        except NotImplementedError as error:  # zipfile's answer to a compression method it does not know
            raise ArchiveError(f"{member.filename} in {self.filename} is packed with a compression method this "
                               "server cannot unpack; make the zip again with your computer's usual "
                               "\"Compress\" command.") from error
        except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, OSError) as error:  # damaged bytes or headers
            raise ArchiveError(f"{member.filename} in {self.filename} is damaged and cannot be unpacked "
                               f"({error}).") from error
        return b"".join(chunks)

    def open(self, member: zipfile.ZipInfo):
        """A file object of the member's bytes, for reading a few header bytes (sizes are checked by the caller)."""
        return self.archive.open(member)
