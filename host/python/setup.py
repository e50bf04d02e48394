"""Puts kiln.wasm into the package before it is built: the component the kiln binary
embeds, written by ../kiln-wasm (cargo) unless src/kiln_engine/kiln.wasm is already there
or KILN_WASM names a prebuilt one. Everything else is in pyproject.toml."""

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
TARGET = HERE / "src" / "kiln_engine" / "kiln.wasm"
SCRIPTS = HERE / "src" / "kiln_engine" / "lua"


class BuildPy(build_py):
    def run(self):
        prebuilt = os.environ.get("KILN_WASM")
        if prebuilt:
            shutil.copyfile(prebuilt, TARGET)
        elif not TARGET.is_file():
            script = HERE.parent / "kiln-wasm"
            if not script.is_file():
                raise SystemExit(
                    f"{TARGET} is missing and {script} is not here to build it: "
                    "install from the Kiln repository (pip install ./host/python) or set KILN_WASM"
                )
            subprocess.run([str(script), str(TARGET)], check=True)
        # The Redis scripts are the Rust store's own files: one copy in the repository.
        lua = HERE.parent / "store" / "lua"
        if lua.is_dir():
            SCRIPTS.mkdir(exist_ok=True)
            for script in lua.glob("*.lua"):
                shutil.copyfile(script, SCRIPTS / script.name)
        elif not any(SCRIPTS.glob("*.lua")):
            raise SystemExit(f"{SCRIPTS} has no Redis scripts and {lua} is not here: install from the Kiln repository")
        super().run()


setup(cmdclass={"build_py": BuildPy})
