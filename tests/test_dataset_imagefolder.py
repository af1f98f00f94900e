"""``imagefolder:PATH``: your own images, loaded, split, cached, trained on and scored.

Scoring uses a tiny stand-in extractor registered here (no Inception weights).
"""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner
from PIL import Image, ImageDraw
from torch_fidelity import FeatureExtractorBase

from ganbench.cli import main
from ganbench.config.run import Budget, RunConfig
from ganbench.core.errors import ConfigError, DatasetError, GanbenchError, UnknownNameError
from ganbench.datasets import DATASETS, load_dataset
from ganbench.datasets.imagefolder import held_out, parse_spec
from ganbench.extractors import ExtractorSpec, register_extractor
from ganbench.extractors.core import EXTRACTORS
from ganbench.extractors.errors import MetricError
from ganbench.training.trainer import train

TINY = "tiny-colour-test"
COLOURS = [(230, 40, 40), (40, 200, 60), (50, 60, 220)]


class TinyExtractor(FeatureExtractorBase):
    """uint8 [B, C, H, W] -> 4x4 average-pooled pixels (features) and a fixed projection (logits)."""

    def __init__(self, name, features_list, feature_extractor_weights_path=None, **kwargs):
        super().__init__(name, features_list)
        self.projection = torch.load(feature_extractor_weights_path, weights_only=True)

    @staticmethod
    def get_provided_features_list():
        return "features", "logits"

    def forward(self, x):
        rgb = x.float().expand(-1, 3, -1, -1) / 255
        feats = torch.nn.functional.adaptive_avg_pool2d(rgb, 4).flatten(1)
        out = {"features": feats, "logits": feats @ self.projection}
        return tuple(out[name] for name in self.features_list)


@pytest.fixture(scope="module")
def tiny_extractor(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny") / "projection.pt"
    torch.save(torch.randn(48, 10, generator=torch.Generator().manual_seed(0)), path)
    register_extractor(ExtractorSpec(name=TINY, feature_layer="features", logits_layer="logits",
                                     resolve_weights=lambda given: path, check_weights=lambda p: None,
                                     prepare=lambda image: image), TinyExtractor)
    yield TINY
    EXTRACTORS.unregister(TINY)


def shapes_folder(root, n=60, size=(40, 36)):
    """``n`` images of a coloured disc on black, nested, alternating PNG / JPG (upper-case too)."""
    for i in range(n):
        image = Image.new("RGB", size)
        x = 3 + (7 * i) % 17
        ImageDraw.Draw(image).ellipse((x, x // 2, x + 15, x // 2 + 15), fill=COLOURS[i % 3])
        path = root / f"class{i % 3}" / ("deep" if i % 2 else "") / f"img{i:03d}.{('png', 'JPG', 'jpeg')[i % 3]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path)
    return root


def levels_folder(root, n):
    """``n`` grey images, image i filled with level i: every image is told apart by its value."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("L", (12, 12), i).save(root / f"{i:03d}.png")
    return root


# --- the loader: known answers ---------------------------------------------------------------------


def test_centre_square_is_kept_and_sides_are_cropped(tmp_path):
    image = Image.new("RGB", (96, 64), (0, 0, 255))  # blue sides, red centre square
    image.paste((255, 0, 0), (16, 0, 80, 64))
    tmp_path.joinpath("a").mkdir()
    for name in "xyz":
        image.save(tmp_path / "a" / f"{name}.png")
    data = load_dataset(f"imagefolder:{tmp_path / 'a'}?size=16&holdout=2", "train").data
    assert data.dtype == torch.uint8 and data.shape == (1, 3, 16, 16)
    assert (data[0, 0] == 255).all() and (data[0, 1:] == 0).all()


def test_bicubic_reduction_averages_stripes_and_grey_is_luma(tmp_path):
    stripes = Image.new("L", (64, 64))
    stripes.putdata([200 * (x % 2) for _ in range(64) for x in range(64)])
    (tmp_path / "s").mkdir()
    for name in "abc":
        stripes.save(tmp_path / "s" / f"{name}.png")
    data = load_dataset(f"imagefolder:{tmp_path / 's'}?size=32&holdout=2", "train").data
    assert data.shape == (1, 1, 32, 32)
    # Antialiased: each output pixel averages its 0/200 pairs (point sampling would give 0 or 200).
    assert (data[0, 0, :, 2:-2] == 100).all()
    (tmp_path / "r").mkdir()
    for name in "abc":
        Image.new("RGB", (20, 20), (255, 0, 0)).save(tmp_path / "r" / f"{name}.png")
    red = load_dataset(f"imagefolder:{tmp_path / 'r'}?size=8&mode=grey&holdout=2", "train").data
    assert red.shape == (1, 1, 8, 8) and (red == 76).all()  # 255 * 299 / 1000, ITU-R 601-2 luma


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path):
    import numpy as np

    for name, level in (("a", 40000), ("b", 1000), ("c", 65535)):  # 16-bit levels -> 156, 3, 255 (>> 8)
        Image.fromarray(np.full((12, 12), level, dtype=np.uint16)).save(tmp_path / f"{name}.png")
    assert Image.open(tmp_path / "a.png").mode in ("I;16", "I")  # Pillow's modes for a 16-bit grey PNG
    spec = f"imagefolder:{tmp_path}?size=8&holdout=2"
    data = torch.cat([load_dataset(spec, split).data for split in ("train", "test")])
    assert sorted(int(image.unique()) for image in data) == [3, 156, 255]  # not all white
    rgb = load_dataset(f"{spec}&mode=rgb", "train").data
    assert rgb.shape[1] == 3 and int(rgb.unique()) in (3, 156, 255)


def test_too_large_image_names_pillows_limit(tmp_path, monkeypatch):
    shapes_folder(tmp_path, n=6)  # 40 x 36 = 1440 pixels, over twice the limit below
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(DatasetError, match=r"image too large .*PIL\.Image\.MAX_IMAGE_PIXELS = None"):
        load_dataset(f"imagefolder:{tmp_path}?holdout=2", "train")


def test_mode_detection_closes_every_file(tmp_path):
    import gc
    import warnings

    from ganbench.datasets.imagefolder import folder_mode, image_files

    shapes_folder(tmp_path, n=6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert folder_mode(image_files(tmp_path), tmp_path, None) == "rgb"
        gc.collect()  # an image left open warns when collected
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_recursive_any_case_extensions_hidden_skipped(tmp_path):
    shapes_folder(tmp_path, n=30)
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".thumbs").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / ".thumbs" / "t.png")
    Image.new("RGB", (8, 8)).save(tmp_path / "._mac.png")
    train, test = (load_dataset(f"imagefolder:{tmp_path}", s) for s in ("train", "test"))
    assert len(train) + len(test) == 30 and len(test) == 3  # round(0.1 x 30)
    assert train.data.shape[1:] == (3, 32, 32) and train.info.kind == "images"


# --- the held-out split ------------------------------------------------------------------------------


def test_held_out_split_is_reproducible_and_disjoint(tmp_path):
    root = levels_folder(tmp_path / "levels", 50)
    name = f"imagefolder:{root}?size=8&holdout=0.2"
    train, test = (load_dataset(name, s).data[:, 0, 0, 0] for s in ("train", "test"))
    assert len(test) == 10 and len(train) == 40
    assert set(train.tolist()).isdisjoint(test.tolist()) and set(train.tolist()) | set(test.tolist()) == set(range(50))
    from ganbench.datasets.imagefolder import _load

    _load.cache_clear()  # read the files again: the same split
    assert torch.equal(load_dataset(name, "test").data[:, 0, 0, 0], test)
    # Adding a file moves at most one image across the split.
    relpaths = [f"{i:03d}.png" for i in range(50)]
    before, after = held_out(relpaths, 10), held_out(relpaths + ["new.png"], 10)
    assert len(before - after) <= 1
    assert held_out(relpaths, 0.2) == before


# --- the cache key -----------------------------------------------------------------------------------


def test_cache_id_follows_content_and_options(tmp_path):
    root = levels_folder(tmp_path / "f", 20)
    name = f"imagefolder:{root}?size=8"
    first = load_dataset(name, "test").info.cache_id
    assert load_dataset(name, "test").info.cache_id == first  # nothing changed: same key
    assert load_dataset(f"imagefolder:{root}?size=12", "test").info.cache_id != first
    Image.new("L", (12, 12), 255).save(root / "007.png")  # one file's bytes
    changed = load_dataset(name, "test").info.cache_id
    assert changed != first and changed.startswith("imagefolder-")
    Image.new("L", (12, 12), 7).save(root / "007.png")  # back to the old bytes: the old key again
    assert load_dataset(name, "test").info.cache_id == first


def test_scoring_caches_real_statistics_under_the_content_hash(tmp_path, tiny_extractor):
    from ganbench.metrics import cache, score_images
    from ganbench.metrics.images import _real_images

    root = shapes_folder(tmp_path / "shapes", n=60)
    name = f"imagefolder:{root}?size=16&holdout=20"
    fake = load_dataset(name, "train").data[:30]
    key_id = load_dataset(name, "test").info.cache_id
    scores = score_images(fake, name, extractor=tiny_extractor, metrics=("fid",))
    assert scores[f"fid/{TINY}"] >= 0
    stored = sorted(p.name for p in cache.cache_root().glob(f"{key_id}*"))
    assert len(stored) == 1 and "shapes" not in stored[0]  # content-addressed, not by path
    Image.new("RGB", (40, 36), (255, 255, 0)).save(next(root.rglob("*.png")))
    _real_images.cache_clear()
    score_images(fake, name, extractor=tiny_extractor, metrics=("fid",))
    new_id = load_dataset(name, "test").info.cache_id
    assert new_id != key_id and len(list(cache.cache_root().glob(f"{new_id}*"))) == 1


# --- bad input: each error names the file or the counts, and the fix -----------------------------------


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(DatasetError, match=r"nope does not exist; correct the path"):
        DATASETS.get(f"imagefolder:{tmp_path / 'nope'}")
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "sub" / "readme.txt").write_text("x")
    with pytest.raises(DatasetError, match=r"empty holds no PNG or JPEG files"):
        load_dataset(f"imagefolder:{tmp_path / 'empty'}", "train")


@pytest.mark.parametrize("kind", ["png", "jpg"])
def test_truncated_file_is_named(tmp_path, kind, monkeypatch):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # as another library may leave it
    root = shapes_folder(tmp_path / "t", n=24)
    victim = sorted(root.rglob(f"*.{kind}"), key=str)[0] if kind == "png" else sorted(root.rglob("*.JPG"))[0]
    victim.write_bytes(victim.read_bytes()[: len(victim.read_bytes()) // 2])
    with pytest.raises(DatasetError, match="truncated") as info:
        load_dataset(f"imagefolder:{root}?mode=rgb", "train")
    assert str(victim) in str(info.value) and "re-export it, or delete it" in str(info.value)


def test_file_that_is_not_an_image_is_named(tmp_path):
    root = shapes_folder(tmp_path / "n", n=24)
    (root / "fake.png").write_text("hello")
    with pytest.raises(DatasetError, match=r"fake\.png: cannot be read as an image"):
        load_dataset(f"imagefolder:{root}", "train")


def test_mixed_channels_need_a_mode(tmp_path):
    root = shapes_folder(tmp_path / "m", n=24)
    Image.new("L", (30, 30), 90).save(root / "grey.png")
    with pytest.raises(DatasetError, match=r"grey\.png is grey, .*img\d+\.png is colour.*\?mode=grey or \?mode=rgb"):
        load_dataset(f"imagefolder:{root}", "train")
    data = load_dataset(f"imagefolder:{root}?mode=grey", "train").data
    assert data.shape[1] == 1
    assert load_dataset(f"imagefolder:{root}?mode=rgb", "train").data.shape[1] == 3


def test_folder_too_small_names_the_counts(tmp_path):
    root = levels_folder(tmp_path / "small", 4)
    with pytest.raises(DatasetError, match=r"has 4 images: holdout=0.1 holds out 0 and leaves 4 to train on"):
        load_dataset(f"imagefolder:{root}", "test")
    with pytest.raises(DatasetError, match=r"holds out 4 and leaves 0"):
        load_dataset(f"imagefolder:{root}?holdout=4", "test")
    from ganbench.metrics import score_images

    fake = torch.zeros(20, 1, 32, 32, dtype=torch.uint8)
    with pytest.raises(MetricError, match=r"n_real=50 but .* has 2 images; pass 1..2 \(an image folder's test split"):
        score_images(fake, f"imagefolder:{root}?holdout=2", n_real=50, metrics=("fid",))


@pytest.mark.parametrize("option, message", [
    ("size=30", "size=30 cannot be built"), ("size=300", "multiple of 4 from 8 to 256"),
    ("mode=cmyk", "use mode=grey or mode=rgb"), ("holdout=1.5", "a fraction in"),
    ("colour=red", "unknown option.*colour"), ("size=big", "size must be a whole number")])
def test_bad_options(option, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        parse_spec(f"{tmp_path}?{option}")


def test_unknown_dataset_names_the_folder_form():
    with pytest.raises(UnknownNameError, match=r"or imagefolder:PATH"):
        DATASETS.get("my-images")


# --- end to end: train, score, benchmark file and real-data row ----------------------------------------


def test_cli_train_then_score(tmp_path, tiny_extractor):
    from ganbench.evaluation.evaluate import evaluate_run

    root = shapes_folder(tmp_path / "shapes", n=60)
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["train", "--variant", "vanilla", "--dataset", f"imagefolder:{root}?size=16",
                                       "--budget", "4steps", "--width", "4", "--batch-size", "8", "--out", str(out)])
    assert result.exit_code == 0, result.output
    record = json.loads((out / "record.json").read_text())
    assert record["status"] == "finished" and record["data"]["images"] == 54 and record["data"]["mode"] == "rgb"
    with pytest.warns(UserWarning, match=r"left out: KID subset size 1000 exceeds the samples \(64 generated, 6 real"):
        record = evaluate_run(out, n_samples=64, extractor=tiny_extractor, snapshots="last")
    assert record["metrics"][f"fid/{TINY}"] > 0 and f"precision/{TINY}" in record["metrics"]
    assert f"kid/{TINY}" not in record["metrics"] and "ndb" not in record["metrics"]


def test_rescoring_keeps_the_leave_out_rule_and_drops_stale_numbers(tmp_path, tiny_extractor):
    """A second extractor on a scored folder run leaves KID out as the first scoring
    did (no error); --force replaces what it re-scores, left-out numbers included;
    the record says what was left out and why, and the report still reads it."""
    from ganbench.core.record import read_record, write_record
    from ganbench.evaluation.evaluate import evaluate_run
    from ganbench.report.load import load_records

    other = TINY + "-2"
    spec = EXTRACTORS.get(TINY)
    register_extractor(ExtractorSpec(name=other, feature_layer="features", logits_layer="logits",
                                     resolve_weights=spec.resolve_weights, check_weights=lambda p: None,
                                     prepare=lambda image: image), TinyExtractor)
    out = tmp_path / "runs" / "mine"
    train(RunConfig(variant="vanilla", dataset=f"imagefolder:{shapes_folder(tmp_path / 'shapes', n=60)}?size=8",
                    seed=0, budget=Budget.parse("2steps", 1), batch_size=8, width=4, snapshot_fractions=(1.0,)), out)
    kwargs = {"n_samples": 64, "snapshots": "last"}
    try:
        with pytest.warns(UserWarning, match="left out: KID subset size"):
            evaluate_run(out, extractor=TINY, **kwargs)
        with pytest.warns(UserWarning, match="left out: KID subset size"):
            evaluate_run(out, extractor=other, **kwargs)  # the explicit feature-metric list of this path
    finally:
        EXTRACTORS.unregister(other)
    snap = read_record(out)["snapshots"][-1]
    assert {f"fid/{TINY}", f"fid/{other}", f"precision/{other}"} <= set(snap["metrics"])
    assert set(snap["left_out"]) == {f"kid/{TINY}", "ndb", f"kid/{other}"}
    assert "KID subset size 1000 exceeds the samples (64 generated, 6 real)" in snap["left_out"][f"kid/{TINY}"]
    # As if an earlier scoring had had the samples for them: a forced re-score leaves them out, so drops them.
    record = read_record(out)
    record["snapshots"][-1]["metrics"].update({f"kid/{TINY}": 99.0, "ndb": 0.5, f"fid/{TINY}": -1.0})
    write_record(out, record)
    with pytest.warns(UserWarning, match="left out"):
        record = evaluate_run(out, extractor=TINY, force=True, **kwargs)
    metrics = record["snapshots"][-1]["metrics"]
    assert f"kid/{TINY}" not in metrics and "ndb" not in metrics and metrics[f"fid/{TINY}"] > 0
    assert f"fid/{other}" in metrics and f"kid/{TINY}" in record["snapshots"][-1]["left_out"]
    records = load_records(tmp_path)  # the report reads metrics only: the left_out entry is not one
    assert list(records.runs["outcome"]) == ["finished"] and f"fid/{TINY}" in set(records.finals["metric"])


def test_scoring_refuses_a_folder_that_changed_since_training(tmp_path, tiny_extractor, monkeypatch):
    from ganbench.core.record import read_record
    from ganbench.evaluation.evaluate import evaluate_run

    here, elsewhere = tmp_path / "here", tmp_path / "elsewhere"
    levels_folder(here / "imgs", 30)
    levels_folder(elsewhere / "imgs", 31)  # the same relative name, other content
    monkeypatch.chdir(here)
    out = tmp_path / "run"
    train(RunConfig(variant="vanilla", dataset="imagefolder:imgs?size=8", seed=0, budget=Budget.parse("2steps", 1),
                    batch_size=8, width=4, snapshot_fractions=(1.0,)), out)
    data = read_record(out)["data"]
    assert data["path"] == str((here / "imgs").resolve())  # absolute, whatever the name was
    kwargs = {"n_samples": 16, "extractor": tiny_extractor, "snapshots": "last"}
    Image.new("L", (12, 12), 200).save(here / "imgs" / "000.png")  # one file changed
    current = load_dataset("imagefolder:imgs?size=8", "test").source["sha256"]
    with pytest.raises(DatasetError, match=rf"image folder {here / 'imgs'} does not hold the images it was made from "
                                           rf"\(content sha256 {data['sha256'][:12]}, now {current[:12]}\); "
                                           r"restore the folder's files .*or retrain"):
        evaluate_run(out, **kwargs)
    Image.new("L", (12, 12), 0).save(here / "imgs" / "000.png")  # restored: scores again
    assert f"fid/{TINY}" in evaluate_run(out, **{**kwargs, "n_samples": 2})["metrics"]
    monkeypatch.chdir(elsewhere)
    with pytest.raises(DatasetError, match=rf"it was made from {here / 'imgs'}, and the name now resolves to "
                                           rf"{elsewhere / 'imgs'} \(a relative PATH"):
        evaluate_run(out, force=True, **kwargs)


def test_benchmark_file_and_real_data_row(tmp_path, tiny_extractor):
    from ganbench.config.benchmarks import load_benchmark
    from ganbench.evaluation.realdata import compute_real_data, ensure_real_data

    root = levels_folder(tmp_path / "levels", 40)
    path = tmp_path / "mine.toml"
    path.write_text(f'dataset = "imagefolder:{root}?size=8&holdout=10"\nvariants = ["vanilla"]\n'
                    f'[profiles.smoke]\nbudget = "4steps"\nseeds = [0]\ntrain = {{ width = 4 }}\n'
                    f'eval = {{ n_samples = 20, extractor = "{TINY}" }}\n')
    bench = load_benchmark(path)
    assert bench.run_configs("smoke")[0].dataset == f"imagefolder:{root}?size=8&holdout=10"
    row = compute_real_data(bench, "smoke")
    assert row["metrics"][f"fid/{TINY}"] >= 0 and row["eval"]["n_samples"] == 20
    ensure_real_data([bench], "smoke", tmp_path / "out")
    Image.new("L", (12, 12), 255).save(root / "000.png")  # the folder changes under a written row
    with pytest.raises(DatasetError, match=r"real-data row .*real-data.json: image folder .* does not hold the images"):
        ensure_real_data([bench], "smoke", tmp_path / "out")
    path.write_text(path.read_text().replace("n_samples = 20", "n_samples = 31"))
    with pytest.raises(GanbenchError, match=r"train split has 30 images, 31 asked for .*add images to the folder"):
        compute_real_data(load_benchmark(path), "smoke")
