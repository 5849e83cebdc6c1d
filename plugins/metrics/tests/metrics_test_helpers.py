"""Helpers of the graflow-metrics tests: scraping the real endpoint and reading samples."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families


def scrape(url: str) -> dict[str, list[Any]]:
    """GET ``url``/metrics and parse it: metric family name -> samples."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def sample(families: dict[str, list[Any]], name: str, **labels: str) -> float | None:
    """The value of the sample ``name`` whose labels include ``labels`` (None if absent)."""
    for samples in families.values():
        for s in samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return None


def get_health(url: str) -> tuple[int, dict[str, Any]]:
    """GET ``url``/health: (HTTP status, JSON body)."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


class ScrapeDuring:
    """Scrapes ``url`` once ``parties`` tasks are blocked in :meth:`arrive`, then lets them go.

    Start it before the run; tasks call ``arrive()``; after the run, ``join()`` and read
    :attr:`families`.
    """

    def __init__(self, url: str, parties: int = 1) -> None:
        self._barrier = threading.Barrier(parties + 1, timeout=20)
        self._done = threading.Event()
        self.families: dict[str, list[Any]] = {}
        self._thread = threading.Thread(target=self._scrape, args=(url,), daemon=True)
        self._thread.start()

    def arrive(self) -> None:
        """Called by a task: block until the scrape is done."""
        self._barrier.wait()
        assert self._done.wait(20), "the scrape never finished"

    def _scrape(self, url: str) -> None:
        self._barrier.wait()
        try:
            self.families = scrape(url)
        finally:
            self._done.set()

    def join(self) -> dict[str, list[Any]]:
        """Wait for the scraper; returns what it scraped."""
        self._thread.join(20)
        return self.families
