"""Time one password hash with the configured Argon2id parameters and a few others, on this machine.

The parameters in accounts.hashers were chosen with this command (README, "Passwords"): aim for
roughly 50 to 100 ms a hash, at a memory cost that many log-ins at once can afford.
"""

import statistics
import time
from argparse import ArgumentParser
from typing import Any

import argon2
from django.core.management.base import BaseCommand

from accounts.hashers import SkinsiteArgon2Hasher

# (time_cost, memory_cost in KiB, parallelism): Django's defaults, OWASP's minimum, and neighbours.
_CANDIDATES = [(2, 102400, 8), (2, 19456, 1), (2, 32768, 1), (3, 32768, 1), (1, 65536, 1), (2, 65536, 1)]


def _median_ms(time_cost: int, memory_cost: int, parallelism: int, rounds: int) -> float:
    hasher = argon2.PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    hasher.hash("warm-up")
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        hasher.hash("correct-horse-battery-9")
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


class Command(BaseCommand):
    help = "Measure Argon2id hash times on this machine: the configured parameters and a few others."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--rounds", type=int, default=7, help="hashes per setting (the median is shown)")
        parser.add_argument("--concurrent", type=int, default=16, help="log-ins at once, for the memory column")

    def handle(self, *args: Any, rounds: int, concurrent: int, **options: Any) -> None:
        current = (SkinsiteArgon2Hasher.time_cost, SkinsiteArgon2Hasher.memory_cost, SkinsiteArgon2Hasher.parallelism)
        header = f"{'time_cost':>9} {'memory':>8} {'lanes':>5} {'median':>9} {'memory x' + str(concurrent):>12}"
        self.stdout.write(header)
        for params in [current, *[c for c in _CANDIDATES if c != current]]:
            t, m, p = params
            ms = _median_ms(t, m, p, rounds)
            mark = "  <- accounts.hashers" if params == current else ""
            self.stdout.write(f"{t:>9} {m // 1024:>5} MiB {p:>5} {ms:>6.1f} ms {m * concurrent // 1024:>8} MiB{mark}")
