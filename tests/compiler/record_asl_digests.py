"""Record the ASL digest of every document of ``asl_corpus`` (run before a compiler
refactoring that must not change the ASL; ``test_asl_unchanged.py`` then compares).

    .venv/bin/python -m tests.compiler.record_asl_digests
"""

from __future__ import annotations

import json

from tests.compiler.asl_corpus import DIGESTS, digest, documents


def main() -> None:
    digests = {name: digest(document) for name, document in documents()}
    DIGESTS.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
    print(f"{len(digests)} documents -> {DIGESTS}")


if __name__ == "__main__":
    main()
