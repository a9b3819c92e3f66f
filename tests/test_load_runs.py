"""`LoadRun` bookkeeping and `--resume`: files are known by content, a finished file is skipped,
a changed or faulty one is loaded again."""

from __future__ import annotations

import shutil
from pathlib import Path

from loaders.load_runs import file_sha256
from loaders.writer import GraphWriter
from tests.conftest import FIXTURES
from tests.test_load import cli_env, load  # noqa: F401  (cli_env is a fixture)


def runs(graph: GraphWriter) -> list[dict]:
    records, _, _ = graph.driver.execute_query(
        "MATCH (r:LoadRun) RETURN r.kind AS kind, r.status AS status, r.hashes AS hashes, "
        "r.finished_hashes AS finished, r.skipped AS skipped ORDER BY r.started_at, r.key",
        database_=graph.database)
    return [dict(r) for r in records]


def test_resume_skips_finished_files_by_content_and_retries_the_rest(
        graph: GraphWriter, cli_env: None, tmp_path: Path) -> None:  # noqa: F811
    good = Path(shutil.copy(FIXTURES / "cybertip" / "bundle.xml", tmp_path / "bundle.xml"))
    broken = Path(shutil.copy(FIXTURES / "cybertip" / "truncated.xml", tmp_path / "truncated.xml"))
    code, output = load("cybertip", str(tmp_path))
    assert code == 1  # the truncated file's fault
    [first] = runs(graph)
    assert first["status"] == "failed" and first["kind"] == "cybertip"
    assert first["finished"] == [file_sha256(good)]  # the faulty file is never finished
    assert sorted(first["hashes"]) == sorted([file_sha256(good), file_sha256(broken)])

    moved = tmp_path / "renamed"
    moved.mkdir()
    good.rename(moved / "same-content.xml")
    code, output = load("cybertip", "--resume", str(moved), str(broken))
    assert f"skipped: {moved / 'same-content.xml'} (loaded already by an earlier run)" in output
    assert code == 1 and "truncated.xml" in output  # tried again, fails again
    second = runs(graph)[1]
    assert second["skipped"] == [str(moved / "same-content.xml")] and second["hashes"] == [file_sha256(broken)]

    edited = moved / "same-content.xml"
    edited.write_text(edited.read_text().replace("</reports>", "<!-- edited --></reports>"))
    code, output = load("cybertip", "--resume", str(edited))
    assert code == 0 and "skipped:" not in output
    assert runs(graph)[2]["status"] == "finished"
