"""Reading a definition's YAML safely: no tags that build objects, no key given twice, no alias
bomb. Imported only when a definition is checked (states/definition_cache.py): a command whose
definitions are unchanged never parses YAML."""

from __future__ import annotations

from typing import Any

import yaml

from lotse.states.errors import DefinitionError

MAX_VALUES = 100_000  # a real pathway has some 2,000; YAML aliases can multiply a small file a billionfold
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 10x faster, same safety


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: str, first: int, second: int) -> None:
        self.key, self.first, self.second = key, first, second


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """YAML keeps the last of two equal keys; a second `name:` would silently rename a process."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in first:
                raise _DuplicateKey(str(key)[:80], first[key], line)
            first[key] = line
        return super().construct_mapping(node, deep=deep)


def parse(text: str, file: str) -> Any:
    """The data of a definition's text; a key given twice or too many values is a
    `DefinitionError` naming the file (a syntax error is left to `yaml_errors.reported_as`)."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except _DuplicateKey as exc:
        raise DefinitionError(file, f"line {exc.second}", f"duplicate key '{exc.key}', first on line "
                              f"{exc.first}; remove one of them") from None
    if _values(data) > MAX_VALUES:
        raise DefinitionError(file, "", f"holds more than {MAX_VALUES:,} values once its aliases (*name) "
                              "are expanded; write the definition out without them")
    return data


def _values(data: Any) -> int:
    """How many values the definition holds as it will be validated: an alias counts each time it
    is used. Stops counting past the limit."""
    count, pending = 0, [data]
    while pending and count <= MAX_VALUES:
        value = pending.pop()
        count += 1
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return count
