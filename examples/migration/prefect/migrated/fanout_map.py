"""Fan-out with .map: score every document in parallel, then aggregate.

Shows ``.map()`` with ``unmapped()``, a list comprehension of ``.submit()`` calls, and a
reduce step that receives the mapped results as a list.
"""

from graflow_core import parallel, task, workflow

STOPWORDS = {"the", "a", "of", "and"}


@task
def list_documents(corpus: str) -> list[str]:
    """The documents of a corpus (inline here; a bucket listing in real life)."""
    return {
        "news": ["the fall of the wall", "a new hope", "markets and rates"],
        "empty": [],
    }[corpus]


@task
def score(document: str, weights: dict[str, float]) -> float:
    """Weighted word count without stop words."""
    words = [w for w in document.split() if w not in STOPWORDS]
    return sum(weights.get(w, 1.0) for w in words)


@task
def length(document: str) -> int:
    return len(document)


@task
def aggregate(scores: list[float], lengths: list[int]) -> dict:
    return {
        "documents": len(scores),
        "total_score": round(sum(scores), 3),
        "longest": max(lengths, default=0),
    }


def build_score_corpus():
    """Build the graflow workflow of the Prefect flow ``score-corpus``.

    Parameters (channel keys): corpus.
    """
    weights = {"wall": 2.5, "hope": 1.5}
    with workflow("score-corpus") as wf:
        list_documents_task = list_documents(task_id="list_documents")

        @task(id="score_map", inject_context=True)
        def score_map_task(ctx):
            """Run ``score`` once per item, in parallel."""
            documents = ctx.get_result("list_documents")
            tasks = [
                score(task_id=f"score_map[{i}]", document=document_item, weights=weights)
                for i, document_item in enumerate(documents)
            ]
            if len(tasks) > 1:
                ctx.next_task(parallel(*tasks))
            elif tasks:
                ctx.next_task(tasks[0])
            return [t.task_id for t in tasks]

        @task(id="length_map", inject_context=True)
        def length_map_task(ctx):
            """Run ``length`` once per item, in parallel."""
            documents = ctx.get_result("list_documents")
            tasks = [
                length(task_id=f"length_map[{i}]", document=doc)
                for i, doc in enumerate(documents)
            ]
            if len(tasks) > 1:
                ctx.next_task(parallel(*tasks))
            elif tasks:
                ctx.next_task(tasks[0])
            return [t.task_id for t in tasks]

        @task(id="aggregate", inject_context=True)
        def aggregate_task(ctx):
            lengths = [ctx.get_result(task_id) for task_id in ctx.get_result("length_map")]
            scores = [ctx.get_result(task_id) for task_id in ctx.get_result("score_map")]
            return aggregate.func(scores, lengths)

        list_documents_task >> score_map_task >> length_map_task >> aggregate_task
    return wf


def score_corpus(corpus: str = "news") -> dict:
    """Run the workflow ``score-corpus`` and return the flow's result."""
    _, ctx = build_score_corpus().execute(ret_context=True, initial_channel={"corpus": corpus})
    return ctx.get_result("aggregate")


if __name__ == "__main__":
    print(score_corpus())
