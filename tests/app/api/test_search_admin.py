import time
from pathlib import Path

from fastapi.testclient import TestClient


def test_search_returns_provenance(client: TestClient) -> None:
    r = client.get("/v1/search", params={"q": "printer error P-203", "collection": "kb", "k": 2})
    assert r.status_code == 200
    top = r.json()["results"][0]
    assert top["document"] == "printing/printers.md"
    assert top["title"] == "Printers" and top["heading"] == "Printers"
    assert "P-203" in top["text"] and top["score"] > 0
    assert len(r.json()["results"]) <= 2


def test_collections_lists_counts_without_server_paths(client: TestClient, kb: Path) -> None:
    body = client.get("/v1/collections").json()
    [coll] = body["collections"]
    assert coll["name"] == "kb" and coll["documents"] == 3 and coll["chunks"] >= 3
    assert str(kb) not in str(body)


def test_reindex_job_reports_progress_and_skips(client: TestClient, kb: Path) -> None:
    (kb / "bad.pdf").write_bytes(b"not a pdf at all")
    (kb / "new.txt").write_text("New note\n\nThe badge office opens at 08:30.\n")
    r = client.post("/v1/admin/collections/kb/reindex")
    assert r.status_code == 202
    job_id = r.json()["id"]
    assert r.headers["Location"] == f"/v1/admin/jobs/{job_id}"
    for _ in range(200):
        job = client.get(f"/v1/admin/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            break
        time.sleep(0.05)
    assert job["status"] == "succeeded", job
    assert job["progress"]["files_done"] == job["progress"]["files_total"] == 5
    assert job["result"]["added"] == 1 and job["result"]["unchanged"] == 3
    assert job["errors"] == [{"path": "bad.pdf", "reason": job["errors"][0]["reason"]}]
    hits = client.get("/v1/search", params={"q": "badge office opens"}).json()["results"]
    assert hits[0]["document"] == "new.txt"

    # the collection's re-indexes, newest first, each as its job reads
    again = client.post("/v1/admin/collections/kb/reindex").json()["id"]
    listed = client.get("/v1/admin/collections/kb/jobs", params={"limit": 2}).json()["jobs"]
    assert [j["id"] for j in listed] == [again, job_id]
    assert listed[1] == client.get(f"/v1/admin/jobs/{job_id}").json()
    assert [j["id"] for j in client.get("/v1/admin/collections/kb/jobs",
                                        params={"limit": 1}).json()["jobs"]] == [again]
    assert client.get("/v1/admin/collections/nope/jobs").status_code == 404
    assert client.get("/v1/admin/collections/kb/jobs", params={"limit": 0}).status_code == 422


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"
    assert ready.json()["checks"]["collections"] == {"serving": 1, "not_indexed": 0,
                                                     "failing": 0}
    assert "kb" not in ready.text  # unauthenticated: no collection names
