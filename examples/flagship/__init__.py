"""The flagship example: an ETL workflow (:mod:`flagship.etl`) run on every engine by
``examples/demo.py`` (``python3 dev.py demo``), one process per engine (:mod:`flagship.engine_run`).
"""
