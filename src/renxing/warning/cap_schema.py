"""The CAP 1.2 schema (OASIS, ``schema/CAP-v1.2.xsd``), loaded once, and a safe XML reader.

Pure: bytes in, elements and errors out. Incoming files are read with entities unresolved, no
network access and a size limit, so a hostile file costs neither memory nor a request elsewhere.
``validate`` names the first offending element by its path, which the 422 answers repeat.
"""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import xmlschema
from lxml import etree

NS = "urn:oasis:names:tc:emergency:cap:1.2"
SCHEMA_PATH = Path(__file__).parent / "schema" / "CAP-v1.2.xsd"
MAX_BYTES = 5 * 1024 * 1024  # a CAP message with embedded resources; issuers' alerts are a few kB


@dataclass(frozen=True)
class CapError:
    element: str  # the offending element's path (/alert/info[1]/area[1]/polygon), or "xml"
    message: str


class CapRefused(ValueError):
    """The bytes are not a CAP 1.2 alert the standard allows."""

    def __init__(self, errors: list[CapError]):
        super().__init__("; ".join(f"{e.element}: {e.message}" for e in errors))
        self.errors = errors


@lru_cache(maxsize=1)
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA_PATH))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=False)


def parse(data: bytes) -> etree._Element:
    """The document's root element; raises :class:`CapRefused` when the bytes are not XML."""
    if len(data) > MAX_BYTES:
        raise CapRefused([CapError("xml", f"larger than {MAX_BYTES} bytes")])
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise CapRefused([CapError("xml", str(exc))]) from exc
    if root is None:
        raise CapRefused([CapError("xml", "empty document")])
    return root


def _path_of(error: xmlschema.XMLSchemaValidationError) -> str:
    path = error.path or "/"
    return path.replace(f"{{{NS}}}", "").replace("cap:", "")


def validate(root: etree._Element) -> list[CapError]:
    """Every way the document breaks the schema (empty when it is a valid CAP 1.2 alert)."""
    if root.tag != f"{{{NS}}}alert":
        return [CapError("alert", f"root element is {etree.QName(root).localname}, not alert in {NS}")]
    return [
        CapError(_path_of(e), (e.reason or str(e)).splitlines()[0]) for e in schema().iter_errors(etree.tostring(root))
    ]


def parse_valid(data: bytes) -> etree._Element:
    """The root of a valid CAP 1.2 alert; raises :class:`CapRefused` naming the offending element."""
    root = parse(data)
    errors = validate(root)
    if errors:
        raise CapRefused(errors)
    return root
