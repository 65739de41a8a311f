"""CLINC150 (150 intents + out-of-scope queries) through `cx-signals run`: the labelled contacts (train, val and the
out-of-scope train and val queries, labelled `oos`, one of triage.out_of_scope_labels) train the triage model and set
its abstention threshold; the test and out-of-scope test queries arrive unlabelled and are scored from
signals.intent_predictions. Targets: in-scope accuracy >= 0.92 (unknown counts as wrong) and out-of-scope recall
>= 0.50 (answered unknown); the CLINC150 paper's linear SVM reached 88.2 / 18.0 and BERT 96.2 / 52.3."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from cx_signals.ml.artefacts import latest_sidecar
from cx_signals.ml.intent import train_intent_model
from cx_signals.paths import database_files
from tests.conftest import cx

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "clinc150" / "data_full.json"
LABELLED = ("train", "val", "oos_train", "oos_val")
UNLABELLED = ("test", "oos_test")
FIRST_DAY = datetime(2026, 9, 1, tzinfo=UTC)
DAYS = 7

pytestmark = pytest.mark.real_data


def _record(conversation_id: str, index: int, utterance: str, intent: str | None) -> dict:
    started = FIRST_DAY + timedelta(days=index % DAYS, seconds=index)
    record = {
        "conversation_id": conversation_id,
        "customer_id": f"customer-{conversation_id}",
        "channel": "chat",
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(minutes=2)).isoformat(),
        "consent_analytics": True,
        "turns": [{"turn_id": "1", "speaker": "customer", "ts": started.isoformat(), "text": utterance}],
    }
    if intent is not None:
        record["intent"] = intent
    return record


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, dict[str, str], float]:
    if not DATA.is_file():
        pytest.skip(f"CLINC150 not found at {DATA} (../shared/data is not part of a user's clone)")
    splits = json.loads(DATA.read_text(encoding="utf-8"))
    landing = tmp_path_factory.mktemp("clinc150") / "landing"
    (landing / "transcripts").mkdir(parents=True)
    truth: dict[str, str] = {}
    index = 0
    for split in (*LABELLED, *UNLABELLED):
        with (landing / "transcripts" / f"clinc150-{split}.jsonl").open("w", encoding="utf-8") as handle:
            for n, (utterance, intent) in enumerate(splits[split]):
                conversation_id = f"{split}-{n:05d}"
                labelled = split in LABELLED
                handle.write(json.dumps(_record(conversation_id, index, utterance, intent if labelled else None)))
                handle.write("\n")
                if not labelled:
                    truth[conversation_id] = intent
                index += 1
    db = landing.parent / "cx.duckdb"
    started = time.perf_counter()
    result = cx("run", "--landing", str(landing), "--db", str(db), timeout=900, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "unknown below score" in result.stdout  # the run summary shows the abstention threshold
    return db, truth, time.perf_counter() - started


def test_in_scope_accuracy_and_out_of_scope_recall(run) -> None:
    db, truth, seconds = run
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT conversation_id, predicted_intent FROM signals.intent_predictions").fetchall()
    predicted = dict(rows)
    sidecar = latest_sidecar(database_files(db).models, "intent")
    assert sidecar is not None
    assert set(truth) <= set(predicted)
    in_scope = [cid for cid, intent in truth.items() if intent != "oos"]
    out_of_scope = [cid for cid, intent in truth.items() if intent == "oos"]
    accuracy = sum(predicted[cid] == truth[cid] for cid in in_scope) / len(in_scope)
    recall = sum(predicted[cid] is None for cid in out_of_scope) / len(out_of_scope)
    print(
        f"CLINC150 through the pipeline ({seconds:.0f} s): in-scope accuracy {accuracy:.4f} ({len(in_scope)}), "
        f"out-of-scope recall {recall:.4f} ({len(out_of_scope)}); threshold {sidecar['abstention_threshold']:.4f}, "
        f"held-out {json.dumps({k: v for k, v in sidecar['metrics'].items() if k != 'per_class_f1'})}"
    )
    assert (len(in_scope), len(out_of_scope)) == (4500, 1000)
    assert sidecar["metrics"]["n_classes"] == 150
    assert sidecar["abstention_threshold"] == sidecar["metrics"]["abstention_threshold"]
    assert sidecar["params"]["out_of_scope_labels"] == ["oos", "out_of_scope"]
    assert accuracy >= 0.92
    assert recall >= 0.50


def test_training_on_15000_labelled_contacts_takes_at_most_a_minute() -> None:
    if not DATA.is_file():
        pytest.skip(f"CLINC150 not found at {DATA} (../shared/data is not part of a user's clone)")
    train = json.loads(DATA.read_text(encoding="utf-8"))["train"]
    load = os.getloadavg()[0]
    started, started_cpu = time.perf_counter(), time.process_time()
    model = train_intent_model([u for u, _ in train], [i for _, i in train], min_examples_per_intent=5)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
    print(
        f"trained on {len(train):,} labelled contacts in {seconds:.1f} s wall, {cpu_seconds:.1f} s CPU "
        f"(1-minute load average {load:.1f})"
    )
    assert len(train) == 15_000 and model.metrics["n_classes"] == 150
    # Training runs on one thread, so its CPU time is the wall time it takes on an idle core; wall time on a shared
    # CI machine measures the other jobs (83 s at load average 20.6 on 2 cores, 33 s at 14).
    assert cpu_seconds <= 60
