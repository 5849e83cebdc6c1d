"""LangChain Runnables as graflow tasks, and the workflow as a Runnable in an LCEL chain.

Runs offline: the chat model is langchain-core's FakeListChatModel. Swap in a real one
(``ChatOpenAI(model=...)``, ``ChatAnthropic(...)``) and nothing else changes.

    .venv/bin/python examples/langchain/research_assistant.py
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from graflow_langchain import WorkflowRunnable, langchain_task
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda

from graflow_core import task, workflow

model = FakeListChatModel(
    responses=[
        "Owls hunt at night. Their feathers are silent. They turn their heads 270 degrees.",
        "Les hiboux chassent la nuit.",
    ]
)

with workflow("research") as wf:

    @task
    def topic(input: str) -> str:
        return input.strip().lower()

    # A prompt's variables ({topic}) are resolved like task parameters: here from `topic`.
    notes = langchain_task(
        ChatPromptTemplate.from_messages([("human", "Three facts about {topic}.")])
        | model
        | StrOutputParser(),
        id="notes",
    )

    # Two Runnables over the same upstream result, in parallel.
    sentences = langchain_task(
        RunnableLambda(lambda text: [s.strip() for s in text.split(".") if s.strip()]),
        id="sentences",
    )
    translate = langchain_task(
        ChatPromptTemplate.from_messages([("human", "Translate the first fact: {notes}")])
        | model
        | StrOutputParser(),
        id="translate",
    )

    @task
    def report(topic: str, sentences: list[str], translate: str) -> dict[str, Any]:
        return {"topic": topic, "facts": sentences, "fr": translate}

    topic >> notes >> (sentences | translate) >> report


class RunTree(BaseCallbackHandler):
    """Collects chain runs; ``print()`` shows them as a tree (workflow > tasks > Runnables)."""

    def __init__(self) -> None:
        self.runs: list[tuple[UUID, UUID | None, str]] = []

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self.runs.append((run_id, parent_run_id, kwargs.get("name") or "?"))

    def print(self, parent: UUID | None = None, depth: int = 0) -> None:
        children = [(rid, name) for rid, pid, name in self.runs if pid == parent]
        for run_id, name in sorted(children, key=lambda child: child[1]):
            print("  " * depth + f"- {name}")
            self.print(run_id, depth + 1)


if __name__ == "__main__":
    # 1. The workflow as a Runnable inside an LCEL chain.
    chain = (
        RunnableLambda(lambda question: question.removeprefix("Tell me about "))
        | WorkflowRunnable(wf, output="report")
        | RunnableLambda(lambda r: f"{r['topic']}: {len(r['facts'])} facts; fr: {r['fr']}")
    )
    tree = RunTree()
    answer = chain.invoke("Tell me about Owls", {"callbacks": [tree]})
    print(answer)
    print("LangChain callbacks saw (siblings sorted by name):")
    tree.print()

    # 2. Or run the workflow directly; its result is the last task's.
    result = wf.execute(initial_channel={"input": "Bats"})
    print("direct run:", result["topic"], "-", len(result["facts"]), "facts")
