"""MedPerf's dataset hash against fixed vectors.

Definition (MedPerf's client, `medperf.utils.get_folders_hash`): for every regular file under the given folders
(os.walk, hidden files included, symlinked files read through their target), take the sha256 hex digest of its bytes;
sort the hex digests as strings; the dataset hash is the sha256 of their concatenation as ASCII text. File names,
folder layout and the order of the folders do not enter it. A folder with no files hashes to sha256(b"").

The expected digests below were computed once with `medperf_reference_hash` (an independent transcription of that
definition) and are written out, so a change of either implementation fails here.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from medperf_core.services.hashing import file_hash, folders_hash

# Folder name -> {relative file path: content}; a tree is built under tmp_path, one folder per key.
Tree = dict[str, dict[str, bytes]]
TREES: dict[str, Tree] = {
    "empty": {"data": {}},
    "one_file": {"data": {"a.txt": b"hello\n"}},
    "data_and_labels": {
        "data": {
            "case_001.csv": b"id,value\n1,0.5\n",
            "sub/deeper/image.bin": bytes(range(256)),
            ".hidden": b"",
        },
        "labels": {"labels.csv": b"id,label\n1,0\n"},
    },
    "duplicates_count_twice": {"data": {"x": b"same", "y": b"same"}},
    # Larger than any read buffer, so chunked reading must give the whole file's digest.
    "large_file": {"data": {"big.bin": b"medperf\x00" * (3 * 2**20 // 8 + 13)}},
}

EXPECTED = {
    "empty": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "one_file": "7f39224e335994886c26ba8c241fcbe1d474aadaa2bd0a8e842983b098cea894",
    "data_and_labels": "218bf7ee561f095bb76700707444aa296d5b3656c65955c0dba6cb6680acf8dd",
    "duplicates_count_twice": "aba417c8f08168a3f9a28929d5eabf82158ca5f0f59af157e80fa80122c3c025",
    "large_file": "c64a003b148a03af16b5dd0aa74a36f3bde0228c5063e244b9be166a8f4570af",
}


def build(base: Path, tree: Tree) -> list[Path]:
    roots = []
    for folder, files in tree.items():
        root = base / folder
        root.mkdir(parents=True)
        for relative, content in files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        roots.append(root)
    return roots


def medperf_reference_hash(roots: list[Path]) -> str:
    """The definition above, written independently of medperf_core (os.walk, whole-file reads)."""
    digests = []
    for root in roots:
        for directory, _, files in os.walk(root, topdown=False):
            for name in files:
                with open(os.path.join(directory, name), "rb") as f:
                    digests.append(hashlib.sha256(f.read()).hexdigest())
    combined = hashlib.sha256()
    for digest in sorted(digests):
        combined.update(digest.encode("utf-8"))
    return combined.hexdigest()


@pytest.mark.parametrize("name", sorted(TREES))
def test_the_dataset_hash_matches_the_fixed_vector(tmp_path: Path, name: str) -> None:
    roots = build(tmp_path, TREES[name])
    assert medperf_reference_hash(roots) == EXPECTED[name]
    assert folders_hash(roots) == EXPECTED[name]


def test_a_file_digest_is_the_sha256_of_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"hello\n")
    assert file_hash(path) == "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"


def test_names_layout_and_folder_order_do_not_matter(tmp_path: Path) -> None:
    roots = build(tmp_path / "a", TREES["data_and_labels"])
    moved = build(
        tmp_path / "b",
        {
            "labels": {"renamed/l.csv": b"id,label\n1,0\n"},
            "data": {"x": b"id,value\n1,0.5\n", "y": bytes(range(256)), "z/.h": b""},
        },
    )
    assert folders_hash(roots) == folders_hash(moved) == folders_hash(list(reversed(moved)))
    assert folders_hash(roots) == EXPECTED["data_and_labels"]


def test_a_single_file_is_hashed_like_a_folder_holding_it(tmp_path: Path) -> None:
    (root,) = build(tmp_path, TREES["one_file"])
    assert folders_hash([root / "a.txt"]) == EXPECTED["one_file"]


def test_a_symlinked_file_is_hashed_by_its_target(tmp_path: Path) -> None:
    target = tmp_path / "outside.txt"
    target.write_bytes(b"hello\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "link.txt").symlink_to(target)
    assert folders_hash([tmp_path / "data"]) == EXPECTED["one_file"]


@pytest.mark.parametrize("threads", [1, 2, 8])
@pytest.mark.parametrize("name", sorted(TREES))
def test_parallel_hashing_gives_the_same_digest(tmp_path: Path, name: str, threads: int) -> None:
    roots = build(tmp_path, TREES[name])
    assert folders_hash(roots, threads=threads) == EXPECTED[name]


def test_many_files_in_parallel_match_the_reference(tmp_path: Path) -> None:
    roots = build(tmp_path, {"data": {f"d{i % 7}/f{i}.bin": os.urandom(i * 37) for i in range(300)}})
    assert folders_hash(roots, threads=8) == folders_hash(roots, threads=1) == medperf_reference_hash(roots)


def test_progress_reports_every_byte(tmp_path: Path) -> None:
    roots = build(tmp_path, TREES["data_and_labels"])
    seen: list[tuple[int, int]] = []
    folders_hash(roots, threads=2, progress=lambda done, total: seen.append((done, total)))
    total = sum(len(c) for files in TREES["data_and_labels"].values() for c in files.values())
    assert len(seen) == 4
    assert seen[-1] == (total, total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_a_bad_thread_setting_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from medperf_core.errors import UserError

    roots = build(tmp_path, TREES["one_file"])
    monkeypatch.setenv("MEDPERF_HASH_THREADS", "many")
    with pytest.raises(UserError, match="MEDPERF_HASH_THREADS"):
        folders_hash(roots)
    monkeypatch.setenv("MEDPERF_HASH_THREADS", "3")
    assert folders_hash(roots) == EXPECTED["one_file"]


HASH_AND_NAME_THE_ERROR = """
import sys
from pathlib import Path
from medperf_core.errors import UserError
from medperf_core.services.hashing import folders_hash
try:
    folders_hash([Path(p) for p in sys.argv[1:]], threads=4)
except UserError as error:
    print(error)
    sys.exit(3)
"""
# Root reads every file through these two capabilities; without them a mode-0 file is refused to root too.
WITHOUT_READ_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    from medperf_core.errors import UserError

    roots = build(tmp_path, TREES["data_and_labels"])
    (roots[0] / "case_001.csv").chmod(0)
    if os.geteuid() != 0:
        with pytest.raises(UserError, match=r"case_001\.csv"):
            folders_hash(roots, threads=4)
        return
    done = subprocess.run(
        [*WITHOUT_READ_OVERRIDE, sys.executable, "-c", HASH_AND_NAME_THE_ERROR, *map(str, roots)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "case_001.csv" in done.stdout, done.stdout
