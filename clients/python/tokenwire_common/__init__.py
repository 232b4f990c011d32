"""Pure helpers shared by server/ and rest_shim/ (besides the generated stubs).

Only code with no I/O and no knowledge of either process lives here, so the two can
still be deployed apart.
"""
