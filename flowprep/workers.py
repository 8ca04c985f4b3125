"""How many worker processes or threads a command uses when the user does not say."""
import os


def default_workers(limit: int = 4) -> int:
    """The machine's cores, at most `limit`: more loader workers than cores only adds start-up cost and warnings."""
    return max(1, min(limit, os.cpu_count() or 1))
