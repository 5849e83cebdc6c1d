"""Run graflow workflows on Apache Airflow 3 (DAGs, GraflowOperator) and turn Airflow DAGs back
into graflow workflows.
"""
