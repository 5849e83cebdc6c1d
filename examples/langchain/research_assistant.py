"""LangChain Runnables as graflow tasks, and the workflow as a Runnable in an LCEL chain.

Runs offline: the chat model is langchain-core's FakeListChatModel. Swap in a real one
(``ChatOpenAI(model=...)``, ``ChatAnthropic(...)``) and nothing else changes.

    .venv/bin/python examples/langchain/research_assistant.py
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from graflow_langchain import WorkflowRunnable
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda

from graflow_core import task, workflow

model = FakeListChatModel(
    responses=[
        "Owls hunt at night. Their feathers are silent. They turn their heads 270 degrees.",
        "Les hiboux chassent la nuit.",
    ]
)


def split_sentences(text: str) -> list[str]:
    return [part.strip() for part in text.split(".") if part.strip()]


with workflow("research") as wf:

    @task
    def topic(input: str) -> str:
        return input.strip().lower()

    # A prompt's variables ({topic}) are resolved like task parameters: here from `topic`.
    # A task can be given the Runnable itself:
    #     notes = langchain_task(prompt | model | StrOutputParser(), id="notes")
    # or, as here, a module-level function returning it: then the task has an importable
    # name, which `graflow spec`, exports and orchestrator workers need.
    @task(id="notes", type="langchain")
    def notes() -> Runnable:
        prompt = ChatPromptTemplate.from_messages([("human", "Three facts about {topic}.")])
        return prompt | model | StrOutputParser()

    # Two Runnables over the same upstream result (notes), in parallel.
    @task(id="sentences", type="langchain")
    def sentences() -> Runnable:
        return RunnableLambda(split_sentences)

    @task(id="translate", type="langchain")
    def translate() -> Runnable:
        prompt = ChatPromptTemplate.from_messages([("human", "Translate the first: {notes}")])
        return prompt | model | StrOutputParser()

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
