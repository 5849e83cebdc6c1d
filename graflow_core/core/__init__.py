"""The Graflow programming model: tasks, graphs, workflows, contexts and the engine."""
