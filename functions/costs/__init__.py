"""The cost of every execution: priced from its history and run data when it ends.

``prices`` is the one price table (per region, with the date it was read); ``memory`` the
Lambda memory sizes the stack configures; ``usage`` counts what an execution used and
``bill`` prices it; ``observer`` records it when the execution ends (``store``: on the
execution's item, and a running total per workflow and day); ``view`` and
``suggestions`` are what the API and the CLI show.

Import the modules themselves: this package imports nothing, so the node runner and the
CDK app can read ``memory`` and ``prices`` without the services behind ``observer``.
"""
