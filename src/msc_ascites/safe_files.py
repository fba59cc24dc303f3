"""Opening the files a user hands the workflow: raw exports, cohort.yaml, published figures.

A named pipe blocks a reader forever, a device never ends, a symlink may lead out of the
raw folder or nowhere, and YAML aliases can expand a few hundred bytes into billions of
nodes. Every file is therefore opened here: only regular files, inside their folder, of
bounded size; YAML through a safe loader that bounds alias expansion. Each refusal is a
one-line FileError naming the file (and line), what is wrong and what to do.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from .errors import FileError

#: Largest raw export read (bytes): far above a 6M-row labs.csv, far below what exhausts memory.
MAX_TABLE_BYTES = int(os.environ.get("MSC_MAX_TABLE_BYTES", 4 * 2**30))
#: Largest YAML file read: settings and published figures are a few kilobytes.
MAX_YAML_BYTES = 2**20
#: Most nodes a YAML document may hold once its aliases are expanded.
MAX_YAML_NODES = 100_000

_KINDS = {stat.S_ISDIR: "a directory", stat.S_ISFIFO: "a named pipe", stat.S_ISCHR: "a character device",
          stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}


def present(path: Path | str) -> bool:
    """Whether ``path`` is there at all: a dangling symlink is present (and an error to read), not absent."""
    return os.path.lexists(path)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS.items() if test(mode)), "not a regular file")


def _checked_target(path: Path, folder: Path | None) -> None:
    """A symlink must lead to an existing file, inside ``folder`` when one is given."""
    if not path.is_symlink():
        return
    target = Path(os.path.realpath(path))
    if not target.exists():
        raise FileError(f"{path}: a symlink to {os.readlink(path)}, which does not exist; "
                        f"put the file itself there")
    if folder is not None and not target.is_relative_to(Path(os.path.realpath(folder))):
        raise FileError(f"{path}: a symlink to {target}, outside {folder}; copy the file into {folder}")


def read_bytes(path: Path | str, limit: int = MAX_TABLE_BYTES, folder: Path | str | None = None) -> bytes:
    """The bytes of a regular file (through a symlink only to one inside ``folder``, when given: the raw
    folder), refusing pipes, devices and directories before reading and files over ``limit`` bytes."""
    path = Path(path)
    _checked_target(path, folder)
    try:  # non-blocking: opening a named pipe for reading would wait for a writer
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise FileError(f"{path}: no such file") from None
    except PermissionError:
        raise FileError(f"{path}: permission denied; make the file readable (chmod a+r) "
                        f"or run as a user who may read it") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise FileError(f"{path}: is {_kind(mode)}, not a regular file; replace it with the file itself")
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileError(f"{path}: larger than the limit of {limit} bytes; is it the right file? "
                        f"(raise MSC_MAX_TABLE_BYTES for a larger export)")
    return data


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing documents whose aliases expand beyond MAX_YAML_NODES nodes."""

    def compose_document(self):
        node = super().compose_document()
        _expanded_size(node, {}, self.name)
        return node

    def construct_mapping(self, node, deep=False):
        """A key given twice would silently keep the last value: name it."""
        seen = set()
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if key.value in seen:
                    raise FileError(f"{self.name}, line {key.start_mark.line + 1}: key {key.value!r} is given twice; "
                                    f"keep one")
                seen.add(key.value)
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: yaml.Node, sizes: dict, name: str) -> int:
    """Nodes under ``node`` with every alias expanded, each shared node counted once per use."""
    key = id(node)
    if key in sizes:
        if sizes[key] is None:
            raise FileError(f"{name}, line {node.start_mark.line + 1}: a YAML alias refers to itself; "
                            f"write the value out")
        return sizes[key]
    sizes[key] = None
    children = node.value if isinstance(node, yaml.CollectionNode) else []
    flat = [n for pair in children for n in pair] if isinstance(node, yaml.MappingNode) else children
    size = 1 + sum(_expanded_size(child, sizes, name) for child in flat)
    if size > MAX_YAML_NODES:
        raise FileError(f"{name}, line {node.start_mark.line + 1}: YAML aliases expand to more than "
                        f"{MAX_YAML_NODES} values; write the settings out without nested aliases (&/*)")
    sizes[key] = size
    return size


def load_yaml(path: Path | str, folder: Path | str | None = None):
    """The data of a YAML file, read as ``read_bytes`` reads, decoded as UTF-8 and parsed safely."""
    path = Path(path)
    data = read_bytes(path, MAX_YAML_BYTES, folder)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileError(f"{path}, line {line}: not valid UTF-8 (byte {exc.start}); save the file as UTF-8") from None
    loader = _BoundedLoader(text)
    loader.name = str(path)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        raise FileError(_yaml_message(path, exc)) from None
    except yaml.YAMLError as exc:
        raise FileError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None
    finally:
        loader.dispose()


def _yaml_message(path: Path, exc: yaml.MarkedYAMLError) -> str:
    """One line: where, what the parser found, and what to do."""
    mark = exc.problem_mark or exc.context_mark
    where = f"{path}, line {mark.line + 1}" if mark else str(path)
    problem = " ".join(str(exc.problem or exc.context or "").split())
    if isinstance(exc, yaml.constructor.ConstructorError) and "tag" in problem:
        return f"{where}: {problem}; settings are plain YAML values, remove the tag"
    return f"{where}: not valid YAML: {problem}; fix the file (indentation, quotes, colons)"
