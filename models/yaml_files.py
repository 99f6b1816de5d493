"""The one reader of the YAML files vanban is given: drafts, flow specs, report specs, the directory and its
reorganisations, calendar announcements, the samples. YAML's safe loader, made stricter:

- the file is UTF-8 (anything else is one line, not a traceback) and at most ``MAX_BYTES``;
- a key given twice in a mapping is refused, naming the key and both lines (YAML would keep the last silently);
- nesting deeper than ``MAX_DEPTH`` is refused, and so is a document whose aliases expand past ``MAX_NODES``
  (a few hundred bytes of nested aliases otherwise take minutes and gigabytes as vanban walks them);
- an unquoted impossible date (``2024-02-30``) or a number too long to read is an error naming its line;
- a key or a value holding a character no document may hold (``legal_text.refused_character``: controls, bidi
  overrides, noncharacters) is refused, naming where.

Every problem is a RuleViolation whose message names the file and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from models.errors import RuleViolation
from models.legal_text import refused_character

MAX_BYTES = 10_000_000  # the sample directory of a province is 13 kB; a whole country's, a few MB
MAX_DEPTH = 40  # a draft's sections nest a few levels; the deepest sample file, 11
MAX_NODES = 1_000_000  # keys and values once aliases are expanded: 600 times the largest sample file
MERGE = "tag:yaml.org,2002:merge"


class _Refused(yaml.MarkedYAMLError):
    """A rule of this reader broken at a place of the file."""

    def __init__(self, rule: str, problem: str, mark: yaml.Mark | None, field: str = "file") -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.rule, self.field = rule, field


class _Loader(yaml.SafeLoader):
    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self._depth >= MAX_DEPTH:
            raise _Refused("file.yaml-depth", f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Node | None:
        node = super().get_single_node()
        if node is not None:
            _Walk().size(node, "")
        return node

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == MERGE:  # '<<: *defaults' brings keys a mapping may then override
                    continue
                key, line = self.construct_object(key_node, deep=True), key_node.start_mark.line + 1
                try:
                    first = seen.setdefault(key, line)
                except TypeError:  # an unhashable key: YAML's own constructor says so
                    continue
                if first != line:
                    raise _Refused("file.yaml-duplicate-key", f"the key '{key}' is given twice (lines {first} and "
                                   f"{line}); YAML would keep the last one silently", key_node.start_mark)
        return super().construct_mapping(node, deep)

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:  # YAML's constructors raise these for 2024-02-30, 5,000 digits …
            if node.tag.endswith(":timestamp"):
                raise _Refused("date.exists", f"{node.value} is not a calendar date ({exc})", node.start_mark) from None
            reason = str(exc).split(";")[0]
            raise _Refused("file.yaml", f"the value '{str(node.value)[:40]}' cannot be read ({reason})",
                           node.start_mark) from None


class _Walk:
    """The size of a document once its aliases are expanded, each distinct node counted once per use; and each
    scalar checked for refused characters, named by its path of keys."""

    def __init__(self) -> None:
        self.sizes: dict[int, int] = {}

    def size(self, node: Node, path: str) -> int:
        known = self.sizes.get(id(node))
        if known is not None:
            return known
        self.sizes[id(node)] = MAX_NODES + 1  # a node that contains itself expands without end
        if isinstance(node, ScalarNode):
            total = 1
            found = refused_character(str(node.value), allowed="\n\t")
            if found:
                rule, what, position = found
                raise _Refused(rule, f"contains {what} at position {position}", node.start_mark, path or "file")
        elif isinstance(node, SequenceNode):
            total = 1 + sum(self.size(item, f"{path}[{i}]") for i, item in enumerate(node.value))
        else:
            total = 1
            for key, value in node.value:
                total += self.size(key, path) + self.size(value, f"{path}.{key.value}".lstrip(".")
                                                             if isinstance(key, ScalarNode) else path)
        if total > MAX_NODES:
            raise _Refused("file.yaml-size", f"expands to more than {MAX_NODES:,} values (aliases that repeat "
                                             "aliases?)", node.start_mark)
        self.sizes[id(node)] = total
        return total


def load_yaml(data: bytes | str, source: str) -> Any:
    """The content of a YAML document read from ``source`` (a file name, for the messages)."""
    if len(data) > MAX_BYTES:
        raise RuleViolation("file", "file.too-large", f"{source} is {len(data):,} bytes; at most {MAX_BYTES:,}")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RuleViolation("file", "file.encoding", f"{source} is not UTF-8 text (the byte "
                                                         f"0x{data[exc.start]:02X} at position {exc.start}): save it "
                                                         "as UTF-8") from None
    try:
        return yaml.load(data, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except _Refused as exc:
        raise RuleViolation(exc.field, exc.rule, f"{exc.problem} ({source}, {_where(exc.problem_mark)})") from None
    except yaml.MarkedYAMLError as exc:
        context = f"{exc.context} ({_where(exc.context_mark)}): " if exc.context and exc.context_mark else ""
        raise RuleViolation("file", "file.yaml", f"{source} is not valid YAML: {_where(exc.problem_mark)}: "
                                                 f"{context}{exc.problem}") from None
    except ReaderError as exc:  # a character YAML does not allow in a file
        raise RuleViolation("file", "file.yaml", f"{source} is not valid YAML: the character U+{exc.character:04X} at "
                                                 f"position {exc.position} is not allowed") from None


def _where(mark: yaml.Mark | None) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"


def read_file(path: Path) -> bytes:
    """A file's bytes; one that cannot be read is one line naming it."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RuleViolation("file", "file.read", f"cannot read {path}: {exc.strerror}") from None


def read_yaml(path: Path) -> Any:
    """The content of a YAML file."""
    return load_yaml(read_file(path), str(path))
