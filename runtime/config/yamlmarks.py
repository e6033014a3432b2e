"""YAML loading that remembers line numbers, so config errors can say where they are.

Mappings load as ``MarkedMap`` (a dict with ``line`` and ``key_lines``) and sequences as ``MarkedList``
(a list with ``line`` and ``item_lines``). A key given twice is an error, not a silent overwrite.

Importing PyYAML is a large share of ``workerhost dev``'s start-up, so a caller may pass a
``ParseCache`` (``yamlcache``) instead: an unchanged document then loads without importing PyYAML.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml

__all__ = ["MarkedList", "MarkedMap", "YamlError", "parse_yaml"]


class YamlError(Exception):
    """The text is not valid YAML (or repeats a key); ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}")


class MarkedMap(dict[Any, Any]):
    """A mapping with the 1-based line it starts on and the line of each key."""

    __slots__ = ("line", "key_lines")

    def __init__(self, line: int = 1) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}


class MarkedList(list[Any]):
    """A sequence with the 1-based line it starts on and the line of each item."""

    __slots__ = ("line", "item_lines")

    def __init__(self, line: int = 1) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


# --- parsing -----------------------------------------------------------------------------------------

_loader: type[yaml.SafeLoader] | None = None


def _marked_loader() -> type[yaml.SafeLoader]:
    global _loader
    if _loader is None:
        import yaml

        base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        _loader = type("_Loader", (base,), {})
        _loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
        _loader.add_constructor("tag:yaml.org,2002:seq", _construct_list)
        _loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
    return _loader


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    try:
        return loader.construct_yaml_int(node)
    except ValueError:  # more digits than Python converts (4,300): say where, as for any bad YAML
        digits = len(str(node.value))
        raise YamlError(node.start_mark.line + 1, f"a number of {digits} characters is too long to read") from None


def _construct_map(loader: yaml.SafeLoader, node: yaml.MappingNode) -> MarkedMap:
    loader.flatten_mapping(node)
    result = MarkedMap(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            duplicate = key in result
        except TypeError:
            raise YamlError(line, "a key must be a plain value, not a list or mapping") from None
        if duplicate:
            raise YamlError(line, f"key {key!r} appears twice in one mapping (first at line {result.key_lines[key]})")
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_list(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> MarkedList:
    result = MarkedList(node.start_mark.line + 1)
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_lines.append(item.start_mark.line + 1)
    return result


def _parse(text: str) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=_marked_loader())  # the loader is a SafeLoader: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlError(line, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlError(1, f"invalid YAML: {exc}") from None


def parse_yaml(text: str) -> Any:
    """Load one YAML document with line marks; raises YamlError."""
    return _parse(text)
