"""The Reproduction section (issue 11): literature from the packaged data file,
verdicts per cell with known answers, and the repro benchmarks' wiring."""

import json
import math
from pathlib import Path

import pytest

from ganbench.config.benchmarks import discover
from ganbench.report import write_report
from ganbench.report.literature import REPRODUCED_BY, RESULTS, load_table
from ganbench.report.load import load_records
from ganbench.report.reproduction import PAPER_EPOCHS, cells, mean_se, verdict

ROOT = Path(__file__).resolve().parents[1]


def test_literature_comes_from_the_data_file_verbatim():
    shipped = (ROOT / "ganbench" / "report" / "data" / "pacgan-table1.toml").read_text()
    table = load_table("pacgan-table1")
    assert table.cells["ring8"]["GAN"]["modes"] == (6.3, 0.5)
    assert table.cells["grid25"]["PacGAN4"]["reverse_kl"] == (0.04, 0.01)
    assert table.trials == 10 and table.spread == "standard error"
    assert table.caption.startswith("Two measures of mode collapse") and table.caption in " ".join(
        line.lstrip("# ") for line in shipped.splitlines())
    assert {(r.dataset, r.method) for r in RESULTS} >= {("ring8", "PacGAN2"), ("grid25", "ALI")}
    # marked as another setting once, in the source ("..., in a different setting: <how>")
    assert all(r.source.endswith("in a different setting") and "different setting" not in r.setting for r in RESULTS)


def test_mean_and_standard_error_known_answer():
    mean, se, n = mean_se([6.0, 8.0, 7.0])  # sample std 1 -> SE 1/sqrt(3)
    assert (mean, n) == (7.0, 3) and se == pytest.approx(1 / math.sqrt(3))
    assert math.isnan(mean_se([5.0])[1])


@pytest.mark.parametrize("args, z, word", [
    # ours 7.0 ± 0.3, paper 6.3 ± 0.4: z = 0.7 / 0.5 = 1.4
    ((7.0, 0.3, 3, 400, 6.3, 0.4, 400), 1.4, "reproduced"),
    # ours 7.5 ± 0.3, paper 6.3 ± 0.4: z = 1.2 / 0.5 = 2.4
    ((7.5, 0.3, 3, 400, 6.3, 0.4, 400), 2.4, "not reproduced"),
    # exactly 2 combined SE is still reproduced: 5.3 vs 6.3, SE 0.3 / 0.4
    ((5.3, 0.3, 3, 400, 6.3, 0.4, 400), -2.0, "reproduced"),
    # same numbers, fewer epochs than the paper: not comparable (z still reported)
    ((7.0, 0.3, 3, 8, 6.3, 0.4, 400), 1.4, "not comparable"),
    # both SEs zero and equal means (all 8 modes every time): reproduced
    ((8.0, 0.0, 3, 400, 8.0, 0.0, 400), 0.0, "reproduced"),
    ((7.0, 0.0, 3, 400, 8.0, 0.0, 400), -math.inf, "not reproduced"),
])
def test_verdict_known_answers(args, z, word):
    got_z, got_word = verdict(*args)
    assert got_word == word and got_z == pytest.approx(z)


def test_one_seed_gives_no_se_and_is_not_comparable():
    z, word = verdict(7.0, math.nan, 1, 400, 6.3, 0.4, 400)
    assert math.isnan(z) and word == "not comparable"


def _record(method, seed, modes, g_steps, variant="vanilla", status="finished"):
    return {
        "schema_version": 1, "run_id": f"pacgan-ring8/{method}/seed{seed}", "benchmark": "pacgan-ring8",
        "variant": method, "dataset": "ring8", "seed": seed, "status": status, "train_size": 100_000,
        "config": {"variant": variant, "batch_size": 100},
        "budget": {"unit": "epochs", "limit": 400, "max_g_steps": None},
        "spent": {"flops": 1, "seconds": 1.0, "d_steps": g_steps, "g_steps": g_steps, "images_seen": 1},
        "snapshots": [{"fraction": 1.0, "g_step": g_steps, "flops": 1, "seconds": 1.0, "path": "g.pt",
                       "metrics": {"modes": modes, "high_quality": 98.2, "reverse_kl": 0.45}}],
        "metrics": {}, "losses": {"g_step": [], "d_loss": [], "g_loss": []}, "samples": None,
    }


@pytest.fixture
def fixture_results(tmp_path):
    # GAN: modes 6, 7, 8 over 400 epochs (400,000 steps x 100 / 100,000): mean 7, SE 1/sqrt(3)
    # vs the paper's 6.3 ± 0.5 -> z = 0.7 / sqrt(1/3 + 0.25) = 0.9165: reproduced.
    # PacGAN2: 8 epochs only -> not comparable.
    for method, seed, modes, steps in [("GAN", 0, 6, 400_000), ("GAN", 1, 7, 400_000), ("GAN", 2, 8, 400_000),
                                       ("PacGAN2", 0, 8, 8000), ("PacGAN2", 1, 8, 8000)]:
        run = tmp_path / "runs" / "pacgan-ring8" / method / f"seed{seed}"
        run.mkdir(parents=True)
        (run / "record.json").write_text(json.dumps(_record(method, seed, modes, steps)))
    # a GAN run still training (50 epochs so far): in neither the means nor "epochs reached"
    run = tmp_path / "runs" / "pacgan-ring8" / "GAN" / "seed3"
    run.mkdir(parents=True)
    (run / "record.json").write_text(json.dumps(_record("GAN", 3, 1, 50_000, status="interrupted")))
    return tmp_path


def test_cells_from_fixture_records(fixture_results):
    found = {(c.method, c.metric): c for c in cells(load_records(fixture_results), fixture_results)}
    gan = found[("GAN", "modes")]
    assert (gan.mean, gan.n, gan.epochs, gan.paper_mean, gan.paper_se) == (7.0, 3, 400.0, 6.3, 0.5)
    assert gan.z == pytest.approx(0.7 / math.sqrt(1 / 3 + 0.25)) and gan.verdict == "reproduced"
    # high_quality 98.2 in every seed vs the paper's 98.2 ± 0.2: z = 0
    assert found[("GAN", "high_quality")].z == 0 and found[("GAN", "high_quality")].verdict == "reproduced"
    assert found[("PacGAN2", "modes")].epochs == 8.0 and found[("PacGAN2", "modes")].verdict == "not comparable"
    assert ("PacGAN3", "modes") not in found  # no records, no cell


def test_report_has_the_reproduction_section_and_curves(fixture_results):
    write_report(fixture_results)
    text = (fixture_results / "README.md").read_text()
    section = text[text.index("## Reproduction"):]
    assert "| GAN | modes | 7 ± 0.58 | 3 | 400 | 6.3 ± 0.5 (n=10) | +0.92 | *reproduced* |" in section
    assert "*not comparable*" in section and "Caption: \"Two measures" in section
    # the repro benchmark's own table carries no "different setting" literature block
    assert "in a different setting" not in text[:text.index("## Reproduction")]
    assert (fixture_results / "figures" / "repro_pacgan-ring8_GAN.png").stat().st_size > 0


def test_repro_benchmarks_run_by_name_only():
    everything = {b.name for b in discover(ROOT / "benchmarks")}
    assert not everything & set(REPRODUCED_BY)  # `run --all` does not pick them up
    for bench in discover(ROOT / "benchmarks", tuple(REPRODUCED_BY)):
        name, dataset = REPRODUCED_BY[bench.name]
        assert bench.dataset == dataset and bench.variant_names() == ["GAN", "PacGAN2", "PacGAN3", "PacGAN4"]
        paper = bench.run_configs("paper")
        assert len(paper) == 4 * 10 and {c.pack for c in paper} == {1, 2, 3, 4}
        assert bench.profile("paper").budget == f"{PAPER_EPOCHS[name]}epochs"
        assert len(bench.profile("cpu").seeds) >= 3
        c = paper[0]
        assert (c.batch_size, c.z_dim, c.g_width, c.g_depth, c.g_batch_norm, c.d_width, c.d_depth, c.d_maxout_pieces,
                c.init_std, c.lr, c.betas) == (100, 2, 400, 4, True, 200, 3, 5, 0.02, 1e-4, (0.8, 0.999))


def test_z_is_shown_only_where_the_verdict_uses_it():
    from ganbench.report.reproduction import Cell, _z
    def cell(word):
        return Cell("b", "GAN", "modes", 5.0, 0.1, 3, 8.0, 6.3, 0.5, 10, -179.0, word)
    assert _z(cell("not comparable")) == "—"
    assert _z(cell("not reproduced")) == "-179.00"


def test_real_row_words_per_metric_and_reverse_kl_n():
    from ganbench.report.wording import defined_note, real_row_note
    text = real_row_note(["fid/fmnist-cnn", "modes", "high_quality", "reverse_kl"])
    assert "FID (FMNIST-CNN): a floor" in text and "Modes: a reference" in text
    assert "High-quality: neither floor nor ceiling" in text
    assert "Reverse KL: the sampling noise" in text and "ceiling of each column" not in text
    assert defined_note("reverse_kl", 1, 9) == " (n=1 of 10)" and defined_note("modes", 1, 9) == ""
