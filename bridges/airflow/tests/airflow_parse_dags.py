"""Hand-written Airflow DAGs for the from_airflow_dag tests (each builder returns a fresh DAG)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any


def taskflow_dag(dag_id: str) -> Any:
    """TaskFlow: XComArg arguments, multiple_outputs, context parameters, params + conf."""
    from airflow.sdk import DAG, task

    with DAG(dag_id, schedule=None, params={"factor": 2, "label": "x"}) as dag:

        @task
        def extract(params=None) -> list[int]:
            return [1, 2, 3, params["factor"]]

        @task(multiple_outputs=True)
        def stats(values: list[int]) -> dict[str, int]:
            return {"total": sum(values), "count": len(values)}

        @task(retries=2, retry_delay=timedelta(seconds=0))
        def mean(total: int, count: int) -> int:
            return total // count

        @task
        def describe(avg: int, values: list[int], dag_run=None, params=None) -> str:
            return f"{params['label']}:{avg}:{len(values)}:{dag_run.conf.get('note', '-')}"

        values = extract()
        s = stats(values)
        describe(mean(s["total"], s["count"]), values)
    return dag


def _double(x: int) -> int:
    return 2 * x


def _greet(name: str, punctuation: str = "!", templates_dict=None) -> str:
    return f"hello {name}{punctuation}{templates_dict['suffix']}"


def classic_dag(dag_id: str) -> Any:
    """Classic operators: PythonOperator (op_args/op_kwargs/templates), Bash, Empty, TaskGroup."""
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG, TaskGroup

    with DAG(dag_id, schedule=None, params={"who": "airflow"}) as dag:
        start = EmptyOperator(task_id="start")
        with TaskGroup("work") as work:
            double = PythonOperator(task_id="double", python_callable=_double, op_args=[21])
            greet = PythonOperator(
                task_id="greet",
                python_callable=_greet,
                op_kwargs={"name": "{{ params.who }}"},
                templates_dict={"suffix": "({{ params.who | upper }})"},
            )
        echo = BashOperator(task_id="echo", bash_command="echo {{ params.who }}-$((20 + 22))")
        join = PythonOperator(
            task_id="join",
            python_callable=lambda ti=None: "+".join(
                str(v) for v in ti.xcom_pull(task_ids=["work.double", "work.greet", "echo"])
            ),
        )
        start >> work >> echo >> join
        [double, greet]  # noqa: B018 - members of the group
    return dag


def branch_dag(dag_id: str, join_rule: str = "none_failed_min_one_success") -> Any:
    """@task.branch choosing by a run parameter, a join after it (trigger rule join_rule)."""
    from airflow.sdk import DAG, task

    with DAG(dag_id, schedule=None) as dag:

        @task.branch
        def choose(dag_run=None) -> str:
            return "big" if dag_run.conf.get("amount", 0) >= 100 else "small"

        @task
        def big() -> str:
            return "big order"

        @task
        def small() -> str:
            return "small order"

        @task
        def after_small(small: str) -> str:
            return small.upper()

        @task(trigger_rule=join_rule)
        def join() -> str:
            return "joined"

        b, s = big(), small()
        choose() >> [b, s]
        a = after_small(s)
        [b, a] >> join()
    return dag


def short_circuit_dag(dag_id: str) -> Any:
    from airflow.sdk import DAG, task

    with DAG(dag_id, schedule=None) as dag:

        @task.short_circuit
        def enabled(dag_run=None) -> bool:
            return bool(dag_run.conf.get("enabled"))

        @task
        def work() -> str:
            return "worked"

        @task(trigger_rule="all_done")
        def always() -> str:
            return "always"

        w = work()
        enabled() >> w >> always()
    return dag


def mapped_dag(dag_id: str) -> Any:
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG, task

    with DAG(dag_id, schedule=None) as dag:

        @task
        def numbers() -> list[int]:
            return [1, 2, 3]

        @task
        def scale(x: int, factor: int) -> int:
            return x * factor

        @task
        def total(values) -> int:
            return sum(values)

        total(scale.partial(factor=10).expand(x=numbers()))
        PythonOperator.partial(task_id="classic_mapped", python_callable=_double).expand(
            op_args=[[1], [5]]
        )
    return dag


def mixed_dag(dag_id: str) -> Any:
    """A hand-written DAG with a GraflowOperator task feeding a TaskFlow task."""
    from airflow.sdk import DAG, task
    from graflow_airflow import GraflowOperator

    with DAG(dag_id, schedule=None) as dag:
        inner = GraflowOperator(
            task_id="inner",
            workflow="airflow_operator_workflows:build_scale",
            op_kwargs={"x": 7, "factor": 6},
        )

        @task
        def consume(value: int) -> str:
            return f"got {value}"

        consume(inner.output)
    return dag


def classic_branch_dag(dag_id: str) -> Any:
    """A hand-written BaseBranchOperator subclass choosing by a param (templated, overridable)."""
    from airflow.providers.standard.operators.branch import BaseBranchOperator
    from airflow.sdk import DAG, task

    class PickParity(BaseBranchOperator):
        template_fields = ("prefix",)

        def __init__(self, *, prefix: str, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.prefix = prefix

        def choose_branch(self, context: Any) -> str:
            return f"{self.prefix}_{'even' if context['params']['n'] % 2 == 0 else 'odd'}"

    with DAG(dag_id, schedule=None, params={"n": 1, "kind": "num"}) as dag:

        @task(task_id="num_even")
        def even() -> str:
            return "even"

        @task(task_id="num_odd")
        def odd() -> str:
            return "odd"

        PickParity(task_id="pick", prefix="{{ params.kind }}") >> [even(), odd()]
    return dag
