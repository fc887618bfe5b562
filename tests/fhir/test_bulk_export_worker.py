"""The FHIR bulk export on a REAL Celery worker (embedded SQLAlchemy broker): $export publishes, the worker writes
the NDJSON files, polling finds the manifest, the files download. No eager mode."""

from __future__ import annotations

import json
import uuid

import pytest

from hms.models import ExportJob
from tests.conftest import bearer
from tests.factories import AdminFactory, TreatmentFactory
from tests.fhir.helpers import validate
from tests.processes import running_worker, worker_app
from tests.test_celery_worker import JOB_TIMEOUT, wait_for

pytestmark = pytest.mark.slow


def test_bulk_export_is_written_by_a_real_worker_and_downloaded_by_its_owner(app, tmp_path):
    queue = f"hms-test-fhir-{uuid.uuid4().hex[:10]}"
    log_path = tmp_path / "worker.log"
    with worker_app(app, tmp_path, redis_url=None, queue=queue) as producer:
        TreatmentFactory(diagnosis="Migraine")
        headers = {**bearer(AdminFactory()), "Prefer": "respond-async"}
        client = producer.test_client()
        with running_worker(producer, log_path):
            started = client.get("/fhir/$export?_type=Patient,Condition", headers=headers)
            assert started.status_code == 202
            job_id = int(started.headers["Content-Location"].rsplit("/", 1)[1])
            wait_for(
                lambda session: (j := session.get(ExportJob, job_id)) is not None and j.status in ("done", "failed"),
                timeout=JOB_TIMEOUT,
                what=f"FHIR export {job_id}",
                log_path=log_path,
            )
        manifest = client.get(f"/fhir/$export-poll-status/{job_id}", headers=headers)
        assert manifest.status_code == 200, manifest.get_data(as_text=True)
        outputs = {o["type"]: o for o in manifest.get_json()["output"]}
        assert {t: o["count"] for t, o in outputs.items()} == {"Patient": 1, "Condition": 1}
        condition = client.get(outputs["Condition"]["url"].removeprefix("http://localhost"), headers=headers)
        assert validate(json.loads(condition.get_data(as_text=True)))["code"] == {"text": "Migraine"}
        assert "hms.fhir.run_bulk_export" in log_path.read_text()
