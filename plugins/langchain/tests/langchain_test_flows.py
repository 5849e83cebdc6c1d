"""An importable workflow with ``langchain`` tasks defined by factories (spec round trip)."""

from __future__ import annotations

from langchain_core.language_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda

from graflow_core import task, workflow

with workflow("spec-able") as wf:

    @task
    def city() -> str:
        return "Lyon"

    @task(id="describe", type="langchain")
    def describe() -> Runnable:
        prompt = ChatPromptTemplate.from_messages([("human", "Describe {city}")])
        return prompt | FakeListChatModel(responses=["a city in France"]) | StrOutputParser()

    @task(id="shout", type="langchain", type_options={"config": {"tags": ["spec"]}})
    def shout() -> Runnable:
        return RunnableLambda(str.upper)

    city >> describe >> shout
