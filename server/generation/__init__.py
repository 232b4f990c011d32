"""Generation: from a Generate or Chat request to response chunks, in one pass.

    plan.py    the request read once: model, template, prompt, options, parsers -> Plan
    prompt.py  prompt assembly: messages, system, tools, thinking; history cut to fit
    run.py     the plan through the scheduler and the engine -> text pieces, then a Final
    output.py  raw text -> content, thinking and tool calls as they become certain;
               streamed or aggregated into one answer

services/inference.py calls plan, then run, then output, and turns the result into
protobuf chunks; nothing here knows gRPC beyond the request messages it reads.
"""
