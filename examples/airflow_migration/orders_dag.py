"""A hand-written Airflow DAG, as teams have them, converted with ``from_airflow_dag``.

See docs/airflow-migration.md. Run the converted workflow without Airflow's scheduler::

    python examples/airflow_migration/orders_dag.py

(Importing Airflow writes ``$AIRFLOW_HOME/logs``; set ``AIRFLOW_HOME`` to a scratch directory
if you do not want that in ``~/airflow``.)
"""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, TaskGroup, task


def _tax_rate(region: str) -> float:
    return {"eu": 0.2, "us": 0.1}.get(region, 0.0)


with DAG("orders", schedule=None, params={"region": "eu"}) as dag:

    @task(retries=3, retry_delay=timedelta(seconds=1))
    def fetch_orders(dag_run=None) -> list[dict]:
        n = dag_run.conf.get("n", 3)
        return [{"id": i, "amount": 40 * i} for i in range(1, n + 1)]

    @task(multiple_outputs=True)
    def totals(orders: list[dict]) -> dict:
        return {"gross": sum(o["amount"] for o in orders), "count": len(orders)}

    @task.branch
    def route(gross: int) -> str:
        return "big_batch" if gross >= 200 else "small_batch"

    @task
    def big_batch(gross: int, rate: float) -> str:
        return f"big batch: {gross * (1 + rate):.2f}"

    @task
    def small_batch(count: int) -> str:
        return f"small batch of {count}"

    @task(trigger_rule="none_failed_min_one_success")
    def notify(ti=None) -> str:
        message = ti.xcom_pull(task_ids="big_batch") or ti.xcom_pull(task_ids="small_batch")
        return f"sent: {message}"

    orders = fetch_orders()
    with TaskGroup("enrich"):
        t = totals(orders)
        tax = PythonOperator(
            task_id="tax_rate",
            python_callable=_tax_rate,
            op_kwargs={"region": "{{ params.region }}"},
        )
    branch = route(t["gross"])
    big = big_batch(t["gross"], tax.output)
    small = small_batch(t["count"])
    branch >> [big, small]
    [big, small] >> notify()


if __name__ == "__main__":
    from graflow_airflow import from_airflow_dag
    from graflow_airflow.parse import airflow_results

    wf = from_airflow_dag(dag)
    print(wf.airflow_report)
    result, ctx = wf.execute(ret_context=True, initial_channel={"n": 4})
    print(result)
    print(airflow_results(ctx))
