"""The sans-I/O core never imports trio; the package ships its type information."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import httpcore

SANS_IO_MODULES = sorted(
    p.stem for p in (Path(httpcore.__file__).parent / "_core").glob("*.py") if p.stem != "__init__"
)


@pytest.mark.parametrize("module", SANS_IO_MODULES)
def test_sans_io_module_does_not_import_trio(module: str) -> None:
    # A fresh interpreter, with a guard that fails any attempt to import trio.
    script = (
        "import sys\n"
        "class Guard:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'trio' or name.startswith('trio.'):\n"
        "            raise ImportError('sans-I/O module imported ' + name)\n"
        "sys.meta_path.insert(0, Guard())\n"
        "import importlib.util, types\n"
        "pkg = types.ModuleType('httpcore')\n"
        f"pkg.__path__ = [{str(Path(httpcore.__file__).parent)!r}]\n"
        "sys.modules['httpcore'] = pkg\n"
        f"importlib.import_module('httpcore._core.{module}')\n"
        "print('trio' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_guard_catches_a_trio_import() -> None:
    """The guard above really fails a module that imports trio."""
    script = (
        "import sys\n"
        "class Guard:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'trio':\n"
        "            raise ImportError('blocked')\n"
        "sys.meta_path.insert(0, Guard())\n"
        "import httpcore._trio.network\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode != 0
    assert "blocked" in result.stderr


def test_py_typed_ships() -> None:
    assert (Path(httpcore.__file__).parent / "py.typed").is_file()


def test_public_names() -> None:
    for name in httpcore.__all__:
        assert hasattr(httpcore, name), name
    assert httpcore.StatusCode is httpcore.codes
    assert issubclass(httpcore.InvalidURL, ValueError)
    assert issubclass(httpcore.StreamError, RuntimeError)
