"""Two loaders at once on overlapping files: both succeed, no node is made twice, and the graph
(keys and the union of `sources`) equals one loader's load of the same files.

Small batches (1,000 elements) and files shared by both runs make the two race on the same new
keys again and again: the writer's constraint retry and the driver's retry of transient errors
(deadlocks) must absorb every collision.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from neo4j import Driver

from bench.crash_resume import clean_load, fingerprint, finish, loader_env, start_loader
from graph_service.settings import Settings
from loaders.model import LOADED_LABELS, Label, cypher
from loaders.synthetic import generate
from tests.conftest import clear_graph

REPORTS = 400
FILES = 8
BATCH = 1000


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """All files, and two overlapping halves (files 1-6 and 3-8) as two analysts would load them."""
    everything = tmp_path_factory.mktemp("all-referrals")
    generate(everything, reports=REPORTS, seed=31, bundle_size=REPORTS // FILES)
    (everything / "truth.json").unlink()
    files = sorted(everything.glob("*.xml"))
    assert len(files) == FILES
    first, second = tmp_path_factory.mktemp("analyst-a"), tmp_path_factory.mktemp("analyst-b")
    for path in files[:6]:
        shutil.copy(path, first / path.name)
    for path in files[2:]:
        shutil.copy(path, second / path.name)
    return everything, first, second


def duplicate_keys(driver: Driver, database: str, label: Label) -> int:
    query = cypher("MATCH (n:{label}) WITH n.key AS k, count(*) AS c WHERE c > 1 RETURN count(k) AS dups",
                   label=label)
    records, _, _ = driver.execute_query(query, database_=database)
    return int(records[0]["dups"])


@pytest.fixture(scope="module")
def raced(folders: tuple[Path, Path, Path], driver: Driver, neo4j_settings: Settings) -> dict:
    """One loader's graph of every file, then the graph two racing loaders leave, and their exits."""
    everything, first, second = folders
    database = neo4j_settings.neo4j_database
    clear_graph(driver, database)
    clean_load(everything, neo4j_settings, BATCH)
    single = {"all": fingerprint(driver, database), "without_files": fingerprint(driver, database, ("File",))}
    clear_graph(driver, database)
    env = loader_env(neo4j_settings, BATCH)
    a, b = start_loader(first, env), start_loader(second, env)
    (code_a, out_a), (code_b, out_b) = finish(a, timeout=900), finish(b, timeout=900)
    return {"single": single, "exits": [(code_a, out_a), (code_b, out_b)],
            "dups": {label: duplicate_keys(driver, database, label) for label in LOADED_LABELS},
            "all": fingerprint(driver, database), "without_files": fingerprint(driver, database, ("File",))}


def test_two_loaders_on_overlapping_files_make_no_duplicate_and_both_succeed(raced: dict) -> None:
    for code, output in raced["exits"]:
        assert code == 0, output
    assert raced["dups"] == dict.fromkeys(LOADED_LABELS, 0)
    mine, single = raced["without_files"], raced["single"]["without_files"]
    assert (mine["nodes"], mine["relationships"]) == (single["nodes"], single["relationships"])


def test_racing_loaders_lose_no_report_from_sources(raced: dict) -> None:
    """The writer locks what it reads before merging into it: no lost update of `sources`."""
    assert raced["without_files"]["checksum"] == raced["single"]["without_files"]["checksum"]


def test_racing_loaders_leave_the_same_keys_and_sources_as_one_loader(raced: dict) -> None:
    """Files too: one loader may know a file by MD5 only while the other knows its SHA-256, and
    without the file-identity lock (loaders/file_identity.py) both created it, under two keys (seen:
    489 File nodes against 484)."""
    assert raced["all"] == raced["single"]["all"]
