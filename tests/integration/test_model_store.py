"""Model stores: the file store under the instance folder and its in-memory double."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from finance_engine.config import load_settings
from finance_engine.services.models import (
    FileModelStore,
    InMemoryModelStore,
    ModelServiceError,
    train_from_file,
)
from finance_engine.synth.loans import generate_loan_history, write_loan_history
from scoring.risk_model import RiskModel


def fixed_clock() -> datetime:
    return datetime(2025, 6, 30, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def history_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("history") / "h.parquet"
    write_loan_history(generate_loan_history(17, 6000), path)
    return path


@pytest.fixture(scope="module")
def model(history_file: Path) -> RiskModel:
    return train_from_file(history_file, clock=fixed_clock)


def test_training_from_a_file_records_its_hash_and_the_injected_clock(
    model: RiskModel, history_file: Path
) -> None:
    assert (
        model.metadata_["training"]["data_sha256"]
        == hashlib.sha256(history_file.read_bytes()).hexdigest()
    )
    assert model.version.startswith("RM-20250630T080000Z-")


def test_file_store_keeps_models_by_version_with_a_current_pointer(
    model: RiskModel, tmp_path: Path
) -> None:
    settings = load_settings({}, instance_path=tmp_path, environment="test")
    store = FileModelStore.for_settings(settings)
    assert store.current_version() is None
    version = store.save(model)
    assert (tmp_path / "models" / "current").read_text() == version + "\n"
    assert store.versions() == [version]
    fresh = FileModelStore(tmp_path / "models")
    loaded = fresh.load()
    assert loaded.version == version
    assert fresh.load(version) is loaded  # cached per process


def test_a_pointer_moved_by_another_process_is_seen_by_a_store_that_cached_it(
    tmp_path: Path,
) -> None:
    serving, training = FileModelStore(tmp_path), FileModelStore(tmp_path)
    training._write_pointer("RM-a")
    assert serving.current_version() == "RM-a"
    assert serving.current_version() == "RM-a"  # cached: one stat, no read
    training._write_pointer("RM-b")  # same size, possibly the same mtime tick: a new inode
    assert serving.current_version() == "RM-b"
    (tmp_path / "current").unlink()
    assert serving.current_version() is None


def test_file_store_refuses_unknown_and_malformed_versions(tmp_path: Path) -> None:
    store = FileModelStore(tmp_path)
    with pytest.raises(ModelServiceError, match="no current model"):
        store.load()
    with pytest.raises(ModelServiceError, match="no model 'RM-x'"):
        store.load("RM-x")
    with pytest.raises(ModelServiceError, match="not a valid model version"):
        store.load("../etc")


def test_in_memory_store_behaves_like_the_file_store(model: RiskModel) -> None:
    store = InMemoryModelStore()
    assert store.current_version() is None
    version = store.save(model)
    assert store.load() is model
    assert store.load(version) is model
    with pytest.raises(ModelServiceError, match="no model"):
        store.load("RM-other")
