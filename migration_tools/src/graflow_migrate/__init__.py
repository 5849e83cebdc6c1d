"""Convert Prefect flow code and Airflow DAG files into graflow code, with a report of what could
not be converted.
"""
