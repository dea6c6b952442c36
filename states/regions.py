"""The regions of the alliance: a hierarchy from configuration (`config/regions.yaml`, or the file
named by `LOTSE_REGIONS_FILE`): the county, its target regions, the towns below them.

    regions:
      - code: SE
        title: {de: Kreis Segeberg, en: Segeberg district}
        regions:
          - code: SE-Nord
            title: {de: Zielregion Nord, en: Target region North}
            regions: [...]

Actors and cases belong to any level. The pure rules live here:

- `chain(code)`: the region and every region above it, nearest first. Routing walks it: a message
  for `housing` of a case in a town goes to the town's housing company, else the target region's,
  else the county's.
- `below(code)`: the region and every region below it. Scope covers it (a county's counsellor
  serves every town), and `lotse case list --region` lists it.
- `at_level(code, level)`: the ancestor of a region at a depth, for reports grouped by level.

A hierarchy is loaded once per file and content (cheap, cached); a file that is not a hierarchy
is one `DefinitionError` naming the file and the key.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lotse.states.errors import BadInput, DefinitionError
from lotse.states.titles import Title
from lotse.states.yaml_errors import reported_as

# A region is written into message tags and routing addresses, where `;` or `=` would add a field.
CODE = re.compile(r"\w[\w-]{0,63}")  # letters include umlauts: HL-Süd
CODE_RULE = "use letters, digits, '-' or '_', at most 64 characters (e.g. SE-Nord)"
LEVELS = ("county", "region", "town")  # names of the first depths, for `--region-level`
MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class Region:
    code: str
    title: Title
    parent: str | None
    depth: int  # 0: the county


@dataclass(frozen=True)
class Regions:
    """Every region by its code (in the file's order), with its parent."""

    by_code: dict[str, Region]
    source: str = ""
    _children: dict[str, list[str]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for region in self.by_code.values():
            if region.parent is not None:
                self._children.setdefault(region.parent, []).append(region.code)

    @property
    def codes(self) -> list[str]:
        return list(self.by_code)

    def __contains__(self, code: object) -> bool:
        return code in self.by_code

    def check(self, code: str) -> str:
        """The code if it is a known region; else bad input naming the known ones."""
        if code not in self.by_code:
            raise BadInput(f"unknown region '{code}'; known regions ({self.source}): {', '.join(self.codes)}")
        return code

    def chain(self, code: str) -> list[str]:
        """The region and every region above it, nearest first; an unknown code alone."""
        found = [code]
        while code in self.by_code and (parent := self.by_code[code].parent) is not None:
            found.append(parent)
            code = parent
        return found

    def below(self, code: str) -> set[str]:
        """The region and every region below it."""
        found, pending = {code}, [code]
        while pending:
            for child in self._children.get(pending.pop(), []):
                found.add(child)
                pending.append(child)
        return found

    def covers(self, served: str, code: str) -> bool:
        """Does `served` (an actor's region, or one it serves) include `code`: itself or above it."""
        return served in self.chain(code)

    def depth(self, code: str) -> int:
        return self.by_code[code].depth if code in self.by_code else 0

    def at_level(self, code: str, level: int) -> str:
        """The region's ancestor at depth `level` (0: the county); a region above it stays itself."""
        chain = self.chain(code)
        above = [c for c in chain if c in self.by_code and self.by_code[c].depth <= level]
        return above[0] if above else code

    def root(self, code: str) -> str:
        return self.chain(code)[-1]

    def title(self, code: str, locale: str) -> str:
        return self.by_code[code].title.in_(locale) if code in self.by_code else code

    @property
    def deepest(self) -> int:
        return max((r.depth for r in self.by_code.values()), default=0)


FLAT = Regions({})  # no hierarchy: each region stands alone (the pure rules' default)


def level(text: str) -> int:
    """A `--region-level`: county, region, town, or a depth (0 is the county)."""
    if text in LEVELS:
        return LEVELS.index(text)
    if text.isdigit():
        return int(text)
    raise BadInput(f"unknown region level '{text}': use {', '.join(LEVELS)} or a depth (0 is the county)")


def check_region(region: str, known: Regions) -> str:
    """The region as given, if it is a code of the hierarchy; anything else is bad input: a
    malformed code named with the rule, an unknown one with the known ones."""
    if not CODE.fullmatch(region):
        raise BadInput(f"region {region!r}: {CODE_RULE}")
    return known.check(region)


# What decides what a hierarchy file checks to, beside the file (states/definition_cache.py).
CHECKED_BY = [Path(__file__).with_name(f"{module}.py")
              for module in ("regions", "titles", "yaml_errors", "errors")]
_cache: dict[tuple[str, str], Regions] = {}
_seen: dict[tuple[str, int, int], Regions] = {}  # by the file's modification time and size


def load(path: Path, cache: Path | None = None) -> Regions:
    """The hierarchy of a file, read once per content: a command asks for it per row and per case,
    so an unchanged file (same modification time and size) is not read again. With a `cache`
    folder, a file checked before with the same bytes is not checked again."""
    file = str(path)
    try:
        stat = path.stat()
    except OSError as exc:
        problem = f"cannot be read: {exc.strerror or exc}; see LOTSE_REGIONS_FILE"
        raise DefinitionError(file, "", problem) from None
    stamp = (file, stat.st_mtime_ns, stat.st_size)
    if stamp in _seen:
        return _seen[stamp]
    try:
        raw = path.read_bytes()[: MAX_BYTES + 1]
    except OSError as exc:
        problem = f"cannot be read: {exc.strerror or exc}; see LOTSE_REGIONS_FILE"
        raise DefinitionError(file, "", problem) from None
    key = (file, hashlib.sha256(raw).hexdigest())
    if key not in _cache:
        if len(raw) > MAX_BYTES:
            raise DefinitionError(file, "", "is larger than 1 MB; a region hierarchy is a few kB")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DefinitionError(file, "", "is not UTF-8 text") from None
        _cache.clear()
        if cache is None:
            _cache[key] = parse(text, file)
        else:
            from lotse.states import definition_cache

            _cache[key] = definition_cache.checked(
                "regions", [[(file, raw)]], lambda: parse(text, file), cache, CHECKED_BY)
    _seen.clear()
    _seen[stamp] = _cache[key]
    return _cache[key]


def parse(text: str, file: str) -> Regions:
    """Validate a hierarchy's YAML text; an error names the file and the key path."""
    import yaml  # here: a command whose hierarchy was checked before never parses YAML (issue 15)

    with reported_as(file):
        data = yaml.safe_load(text)
    if not isinstance(data, dict) or "regions" not in data:
        raise DefinitionError(file, "", "must be a mapping with a list `regions` (code, title, regions)")
    unknown = sorted(str(k) for k in data if k != "regions")
    if unknown:
        raise DefinitionError(file, unknown[0], "unknown key; a hierarchy file has `regions` only")
    found: dict[str, Region] = {}
    _walk(data["regions"], "regions", None, 0, found, file)
    if not found:
        raise DefinitionError(file, "regions", "names no region; give at least the county")
    return Regions(found, file)


def _walk(items: Any, path: str, parent: str | None, depth: int, found: dict[str, Region], file: str) -> None:
    if not isinstance(items, list):
        raise DefinitionError(file, path, "must be a list of regions (code, title, regions)")
    for index, item in enumerate(items):
        where = f"{path}[{index}]"
        if not isinstance(item, dict):
            raise DefinitionError(file, where, "must be a mapping with code and title")
        extra = sorted(str(k) for k in item if k not in ("code", "title", "regions"))
        if extra:
            raise DefinitionError(file, f"{where}.{extra[0]}",
                                  "unknown key; a region has code, title, regions")
        code = item.get("code")
        if not isinstance(code, str) or not CODE.fullmatch(code):
            raise DefinitionError(file, f"{where}.code", CODE_RULE)
        if code in found:
            raise DefinitionError(file, f"{where}.code", f"'{code}' is named twice; give each region once")
        title = item.get("title")
        if isinstance(title, str):
            title = {"de": title, "en": title}
        if not isinstance(title, dict) or not title.get("de") or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in title.items()
        ):
            raise DefinitionError(file, f"{where}.title",
                                  "give a title, e.g. {de: Zielregion Nord, en: North}")
        found[code] = Region(code, Title(title), parent, depth)
        if "regions" in item:
            _walk(item["regions"], f"{where}.regions", code, depth + 1, found, file)
