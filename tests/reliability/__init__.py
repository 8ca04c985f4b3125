"""The reliability suite: crashes, full disks, bad input, fuzzing, concurrency and unsafe files (issue 7)."""
