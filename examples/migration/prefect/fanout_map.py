"""Fan-out with .map: score every document in parallel, then aggregate.

Shows ``.map()`` with ``unmapped()``, a list comprehension of ``.submit()`` calls, and a
reduce step that receives the mapped results as a list.
"""

from prefect import flow, task, unmapped

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


@flow(name="score-corpus")
def score_corpus(corpus: str = "news") -> dict:
    documents = list_documents(corpus)
    weights = {"wall": 2.5, "hope": 1.5}
    scores = score.map(documents, unmapped(weights))
    lengths = [length.submit(doc) for doc in documents]
    return aggregate(scores, lengths)


if __name__ == "__main__":
    print(score_corpus())
