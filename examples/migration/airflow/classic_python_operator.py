"""A classic DAG with PythonOperators: op_kwargs, XCom pulls through ``ti``, DAG params,
``>>`` / ``set_downstream`` dependencies, retries and an execution timeout.
"""

from datetime import datetime, timedelta

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG


def fetch(city: str, days: int) -> list[float]:
    base = {"berlin": 10.0, "oslo": 2.0}[city]
    return [base + d * 0.5 for d in range(days)]


def average(ti) -> float:
    berlin = ti.xcom_pull(task_ids="fetch_berlin")
    oslo = ti.xcom_pull(task_ids="fetch_oslo")
    values = berlin + oslo
    return round(sum(values) / len(values), 3)


def report(ti, params) -> str:
    avg = ti.xcom_pull(task_ids="average")
    return f"{params['label']}: {avg}"


with DAG(
    dag_id="weather_report",
    start_date=datetime(2024, 1, 1),
    schedule=None,
    catchup=False,
    params={"label": "mean temperature"},
    default_args={"retries": 2, "retry_delay": timedelta(seconds=1)},
) as dag:
    start = EmptyOperator(task_id="start")
    fetch_berlin = PythonOperator(
        task_id="fetch_berlin",
        python_callable=fetch,
        op_kwargs={"city": "berlin", "days": 3},
        execution_timeout=timedelta(seconds=30),
    )
    fetch_oslo = PythonOperator(task_id="fetch_oslo", python_callable=fetch, op_args=["oslo", 2])
    avg = PythonOperator(task_id="average", python_callable=average)
    publish = PythonOperator(task_id="report", python_callable=report)

    start >> [fetch_berlin, fetch_oslo] >> avg
    avg.set_downstream(publish)
