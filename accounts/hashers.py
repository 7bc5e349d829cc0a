"""How passwords are stored: Argon2id, with parameters measured on a 2-core machine.

Django's own Argon2 defaults (100 MiB, 8 lanes) took about 170 ms a hash there and would hold
1.6 GB with the 16 log-ins `make serve` can run at once (4 processes of 4 threads). 32 MiB, three
passes and one lane take about 63 ms and 512 MB for the same 16 (README, "Passwords";
`manage.py password_hash_timing` measures again). Older hashes (PBKDF2, or Argon2 with other
parameters) are rewritten with these at the account's next successful log-in: Django's
`check_password` calls `must_update`, which compares the stored parameters with these.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class SkinsiteArgon2Hasher(Argon2PasswordHasher):
    # Same algorithm name as Django's: hashes made with its defaults still verify, then upgrade.
    time_cost = 3
    memory_cost = 32 * 1024  # KiB
    parallelism = 1
