"""Chat models and tools for the ``agent`` and ``tool`` nodes (``functions.nodes.agent``,
``functions.nodes.tool``).

- ``chat``: the protocol every model client speaks (messages, tool specs, replies, usage);
- ``openai_chat``, ``bedrock``: OpenAI-compatible Chat Completions and Bedrock Converse;
- ``models``: the client a node's parameters name; ``retries``: 429/5xx inside the node;
- ``tools``: calling one tool (HTTP or sub-workflow) with its schemas checked;
- ``agent_loop``: the conversation and its record; ``schemas``: JSON Schema checks;
- ``errors``: the typed errors Step Functions' Retry/Catch see.
"""
