"""Thread mode's interpreter inside the JVM is told where this interpreter's packages are."""

from __future__ import annotations

import sys
import sysconfig

from jobs.main import package_folders


def test_folders_a_pth_file_added_are_named_too(monkeypatch, tmp_path):
    borrowed = tmp_path / "other-venv" / "lib" / "python3.11" / "site-packages"
    monkeypatch.setattr(sys, "path", [str(tmp_path / "app"), "/usr/lib/python311.zip",
                                      sysconfig.get_path("purelib"), str(borrowed)])
    folders = package_folders()
    assert folders[0] == sysconfig.get_path("purelib")
    assert str(borrowed) in folders
    assert str(tmp_path / "app") not in folders and "/usr/lib/python311.zip" not in folders
    assert len(folders) == len(set(folders))
