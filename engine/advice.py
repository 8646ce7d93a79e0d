"""Advice on data and settings before training: what is wrong or risky, whether training can
start as set, and the change that would fix it (the app offers it as a button)."""
from dataclasses import dataclass, field
from typing import Dict, List


@dataclass(frozen=True)
class Advice:
    text: str                                   # one or two plain sentences
    blocks: bool = False                        # training cannot start as set (else: it works,
                                                # with this caveat)
    fix: Dict[str, object] = field(default_factory=dict)   # settings that would resolve it
    fix_label: str = ""                         # the button's words: "Use batch 8"


def largest_power_of_two(limit: float) -> int:
    """The largest 1, 2, 4, 8, ... not above ``limit`` (0 when even 1 is too many)."""
    n = 1
    if limit < 1:
        return 0
    while n * 2 <= limit:
        n *= 2
    return n


def one_verdict(items: List[Advice]) -> List[Advice]:
    """While something stops training, only what stops it is said: a caveat beside it ("Trains,
    but ...") would say the opposite of it, and it is said in its turn once training can start."""
    blocking = [item for item in items if item.blocks]
    return blocking or list(items)
