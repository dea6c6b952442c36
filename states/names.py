"""Names as a search finds them: folded, so that "Muller", "muller" and "MÜLLER" all find "Müller".

Folding drops case and accents (NFKD, combining marks removed, `casefold`: "ß" -> "ss"), so a
coordinator at a German keyboard finds "Hadžić" by typing "hadzic".
"""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """A name as search keys store it, and as a search's words are compared with them."""
    decomposed = unicodedata.normalize("NFKD", text.strip())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())
