"""Which evidence files are accepted: a short list of document types, checked by their first bytes too
(a declared type is only a claim)."""

from __future__ import annotations

from tejido_common.problems import DomainError, field_error

OOXML = b"PK\x03\x04"
ALLOWED: dict[str, tuple[bytes, ...] | None] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "text/plain": None,
    "text/csv": None,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (OOXML,),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (OOXML,),
}


class EvidenceTooLarge(DomainError):
    status, code, title = 413, "evidence-too-large", "Evidence file too large"


class UnsupportedEvidenceType(DomainError):
    status, code, title = 415, "unsupported-evidence-type", "Evidence file type not accepted"


def check_file(content_type: str | None, data: bytes, max_bytes: int) -> str:
    """The normalized content type of an acceptable file, or a 413/415 problem naming ``file``."""
    if len(data) > max_bytes:
        raise EvidenceTooLarge(
            f"evidence files may be at most {max_bytes} bytes",
            errors=[field_error(["file"], f"{len(data)} bytes; at most {max_bytes}")],
        )
    if not data:
        raise UnsupportedEvidenceType(
            "the evidence file is empty", errors=[field_error(["file"], "empty file")]
        )
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in ALLOWED:
        raise UnsupportedEvidenceType(
            f"evidence of type {media or 'unknown'} is not accepted",
            errors=[field_error(["file"], f"accepted types: {', '.join(sorted(ALLOWED))}")],
        )
    magic = ALLOWED[media]
    if magic is not None and not any(data.startswith(m) for m in magic):
        raise UnsupportedEvidenceType(
            f"the file's content is not {media}",
            errors=[field_error(["file"], f"content does not look like {media}")],
        )
    if magic is None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise UnsupportedEvidenceType(
                "text evidence must be UTF-8", errors=[field_error(["file"], "not valid UTF-8 text")]
            ) from None
    return media
