"""n8n's documents as a front end of the compiler (``document``: import and export)."""

from compiler.n8n.document import Imported, from_n8n, is_n8n, to_n8n
from compiler.n8n.names import workflow_name

__all__ = ["Imported", "from_n8n", "is_n8n", "to_n8n", "workflow_name"]
