"""A Prompt flow Python tool, unchanged: Weft's Python node calls it (see word-stats.weft.yaml)."""

from collections import Counter

from promptflow.core import tool


@tool
def word_stats(text: str, top: int = 3) -> dict:
    words = [w.strip(".,;:!?\"'").lower() for w in text.split()]
    words = [w for w in words if w]
    print(f"counted {len(words)} words")
    return {
        "words": len(words),
        "top": [word for word, _ in Counter(words).most_common(top)],
    }
