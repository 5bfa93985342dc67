"""A spec file's YAML, read as untrusted input: within bounds, strictly, explained on failure.

A spec is a few hundred bytes of settings, so the bounds are far above any real spec and far
below what could hurt the machine:

- at most MAX_SPEC_BYTES (1 MB) of UTF-8 text; a byte that is not UTF-8 is named by offset;
- at most MAX_SPEC_NODES (10,000) values, counted with every alias expanded: a "billion
  laughs" document (aliases of aliases) is refused before anything is built from it, in
  bounded time and memory, and an alias may not contain itself;
- a key given twice in one mapping, at any level, is an error naming its path and both lines
  (YAML would keep the last one silently: a sweep would run only the second axis);
- YAML 1.1 as PyYAML's SafeLoader reads it (no Python tags), except that an unquoted 10:30
  stays text (no base-60 numbers), 1e20 is a number as in YAML 1.2, and a date that does not
  exist (2024-02-30) stays text, so that the spec's checks name its key.

>>> parse_spec_yaml("grid: {slot: [07:30], target: [1e2]}")
{'grid': {'slot': ['07:30'], 'target': [100.0]}}
>>> parse_spec_yaml("grid:\\n  target: [10]\\ngrid:\\n  t1_fraction: [0.5]\\n")
Traceback (most recent call last):
...
research.errors.SpecError: grid: given twice, at lines 1 and 3 (YAML keeps only the last ...
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from research.errors import ResearchError, SpecError

MAX_SPEC_BYTES = 1_000_000
MAX_SPEC_NODES = 10_000
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_SAFE_RESOLVERS = yaml.SafeLoader.yaml_implicit_resolvers
_SHOWN_KEY_CHARS = 40
_SHOWN_PROBLEM_CHARS = 200


def read_spec_yaml(path: Path) -> Any:
    """The value of the one YAML document in `path`; a SpecError starting with the path.

    >>> import pathlib, tempfile
    >>> spec = pathlib.Path(tempfile.mkdtemp()) / "s.yaml"
    >>> _ = spec.write_bytes(b"name: caf\\xe9\\n")
    >>> read_spec_yaml(spec)
    Traceback (most recent call last):
    ...
    research.errors.SpecError: .../s.yaml: not UTF-8 text: byte 0xe9 at offset 9 (line 1); ...
    """
    try:
        return parse_spec_yaml(_read_text(path))
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None


def parse_spec_yaml(text: str) -> Any:
    """The value of one YAML document of spec text, read within this module's bounds.

    >>> parse_spec_yaml("base: &b {instrument: ES}\\nnotes: *b")
    {'base': {'instrument': 'ES'}, 'notes': {'instrument': 'ES'}}
    """
    try:
        return yaml.load(text, Loader=_SpecLoader)
    except RecursionError:
        raise SpecError("invalid YAML: nested too deeply") from None
    except yaml.reader.ReaderError as exc:  # a control character; its message is two lines
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise SpecError(f"invalid YAML at character {exc.position + 1}: character #x{code:04x} "
                        f"is not allowed ({exc.reason})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        context = getattr(exc, "context", None)  # e.g. "while parsing a flow sequence"
        problem = str(getattr(exc, "problem", None) or exc)
        problem = _cut(f"{context}, {problem}" if context else problem, _SHOWN_PROBLEM_CHARS)
        raise SpecError(f"invalid YAML{where}: {problem}") from None


def _read_text(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_SPEC_BYTES + 1)  # never more, whatever the file is
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise SpecError(f"cannot read the spec ({getattr(exc, 'strerror', None) or exc})") \
            from None
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError(f"the spec is larger than {MAX_SPEC_BYTES:,} bytes; a spec holds "
                        "settings, not data (bars go in a file named by data.path)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SpecError(f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} "
                        f"(line {line}); save the file as UTF-8") from None


class _SpecLoader(yaml.SafeLoader):
    """SafeLoader with the resolvers and bounds of the module doc."""

    yaml_implicit_resolvers = {char: [(tag, rx) for tag, rx in resolvers if tag != _INT_TAG]
                               for char, resolvers in _SAFE_RESOLVERS.items()}

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.nodes_composed = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        """Count nodes as they are built, so that a long flat document stops early too."""
        if not self.check_event(yaml.AliasEvent):
            self.nodes_composed += 1
            if self.nodes_composed > MAX_SPEC_NODES:
                line = self.peek_event().start_mark.line + 1
                raise SpecError(f"line {line}: the spec has more than {MAX_SPEC_NODES:,} "
                                "values; a spec holds settings, not data")
        return super().compose_node(parent, index)

    def get_single_node(self) -> Node | None:
        node = super().get_single_node()
        if node is not None:
            _NodeCheck(self).expanded_size(node, "")
        return node

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        """A value Python cannot build (an int of 5,000 digits, !!float abc) is a YAML error
        at its line, not a bare ValueError."""
        try:
            return super().construct_object(node, deep=deep)
        except ResearchError:
            raise
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            shown = repr(_cut(node.value, _SHOWN_KEY_CHARS)) if isinstance(node, ScalarNode) \
                else "a value"
            kind = node.tag.rsplit(":", 1)[-1]
            raise ConstructorError(None, None, f"cannot read {shown} as {kind}: "
                                   f"{_cut(str(exc), _SHOWN_KEY_CHARS * 2)}",
                                   node.start_mark) from None

    def construct_yaml_timestamp(self, node: ScalarNode) -> Any:
        """A date that does not exist stays text: the spec's checks then name its key."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_SpecLoader.add_implicit_resolver(_INT_TAG, re.compile(
    r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"))
# YAML 1.1 needs a dot in a float (1.0e+20); YAML 1.2 and every user also read 1e20 as one.
_SpecLoader.add_implicit_resolver(_FLOAT_TAG, re.compile(
    r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789"))
_SpecLoader.add_constructor("tag:yaml.org,2002:timestamp", _SpecLoader.construct_yaml_timestamp)


class _NodeCheck:
    """One walk over the composed document: sizes with aliases expanded, duplicate keys.

    An alias is the very node it names, so sizes are memoised per node: the walk costs the
    document's size, not its expansion's.
    """

    def __init__(self, loader: _SpecLoader) -> None:
        self.loader = loader
        self.sizes: dict[int, int] = {}
        self.open: set[int] = set()

    def expanded_size(self, node: Node, where: str) -> int:
        ident = id(node)
        if ident in self.sizes:
            return self.sizes[ident]
        if ident in self.open:
            raise SpecError(f"{where or 'spec'} (line {node.start_mark.line + 1}): an alias "
                            "names a value that contains it; YAML aliases may not be recursive")
        self.open.add(ident)
        total = 1
        if isinstance(node, MappingNode):
            self._refuse_duplicate_keys(node, where)
            for key_node, value_node in node.value:
                total += self.expanded_size(key_node, where)
                total += self.expanded_size(value_node, _join(where, _label(key_node)))
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                total += self.expanded_size(item, f"{where}[{index}]")
        self.open.discard(ident)
        if total > MAX_SPEC_NODES:
            raise SpecError(f"{where or 'spec'} (line {node.start_mark.line + 1}): more than "
                            f"{MAX_SPEC_NODES:,} values once its aliases are expanded (an alias "
                            "repeats what it names); write the values out, fewer of them")
        self.sizes[ident] = total
        return total

    def _refuse_duplicate_keys(self, node: MappingNode, where: str) -> None:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, ScalarNode):
                continue  # '<<' merges may be overridden; a complex key fails when built
            key = self.loader.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in first_line:
                raise SpecError(f"{_join(where, _label(key_node))}: given twice, at lines "
                                f"{first_line[key]} and {line} (YAML keeps only the last one); "
                                "give each key once")
            first_line[key] = line


def _label(key_node: Node) -> str:
    return _cut(key_node.value, _SHOWN_KEY_CHARS) if isinstance(key_node, ScalarNode) else "?"


def _join(where: str, label: str) -> str:
    return f"{where}.{label}" if where else label


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit - 3]}..."
