"""Build step of the wheel: copy the pinned npm packages' files kenmap ships into the package.

Everything else about the project is in ``pyproject.toml``. The files are listed in
``kenmap/maps/vendor_files.py`` and come from ``node_modules`` (``npm ci``), or, when building
from an sdist, from the ``kenmap/maps/vendor/`` folder the sdist carries.
"""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
VENDOR = Path("kenmap") / "maps" / "vendor"
FILES = runpy.run_path(str(HERE / "kenmap" / "maps" / "vendor_files.py"))["VENDOR_FILES"]


def _copy_vendor(target: Path) -> None:
    sources = [HERE / "node_modules", HERE / VENDOR]
    for name in FILES:
        found = next((root / name for root in sources if (root / name).is_file()), None)
        if found is None:
            raise SystemExit(f"kenmap build: {name} is missing; run 'npm ci' in {HERE} first")
        out = target / name
        out.parent.mkdir(parents=True, exist_ok=True)
        if found.resolve() != out.resolve():
            shutil.copyfile(found, out)


class BuildWithAssets(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads node_modules in the checkout
        _copy_vendor(Path(self.build_lib) / VENDOR)


class SdistWithAssets(sdist):
    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        _copy_vendor(Path(base_dir) / VENDOR)


setup(cmdclass={"build_py": BuildWithAssets, "sdist": SdistWithAssets})
