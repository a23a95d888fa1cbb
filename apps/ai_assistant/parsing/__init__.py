"""Workload parsing: rules (``rules``), numbers as users write them (``numbers``) and the word
lists (``vocabulary``). Pure Python; ``apps.ai_assistant.workload_parser`` assembles and
validates the result against the math core and the catalogue filter."""
