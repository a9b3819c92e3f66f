"""`gracegraph synth`: synthetic referrals with planted ground truth."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console

from graph_service.cli.errors import reported

out = Console(highlight=False, soft_wrap=True)


@reported
def synth(
    reports: int = typer.Option(2000, "--reports", min=1, help="How many reports to generate."),
    seed: int = typer.Option(7, "--seed", help="Same seed, same bytes."),
    out_dir: Path = typer.Option(..., "--out", help="Directory for the XML bundles and truth.json."),
    bundle_size: int = typer.Option(1000, "--bundle-size", min=1, help="Reports per XML file."),
) -> None:
    """Write synthetic CyberTip XML and truth.json (all made up: no real person is in it)."""
    from loaders.synthetic import generate

    began = time.perf_counter()
    with out.status(f"generating {reports} reports…"):
        truth = generate(out_dir, reports=reports, seed=seed, bundle_size=bundle_size)
    files = len(truth.files) if hasattr(truth, "files") else "?"
    out.print(f"{reports} reports in {files} files under {out_dir} "
              f"({time.perf_counter() - began:.1f}s); ground truth in {out_dir / 'truth.json'}")
