"""Classroom grading: every (student, kata) of a submissions tree, isolated, reproducible, resumable.

    SUBMISSIONS/<student>/<kata>.py  ->  OUT/gradebook.csv, grades.json, feedback/<student>.md,
                                         timings.csv, .state/ (journal for resume and merge)

    plan      options, identities (engine version, seeds, shards), staging, what to reuse
    records   typed outcomes of a pair: Submission, Graded, Refused, Ungraded
    journal   one fsynced line per finished pair (resume, merge)
    uids      the locked block of slot uids (root)
    slots     slot processes, the canary, the pool that hands out jobs
    outputs   Book (records in memory) -> gradebook.csv, grades.json, feedback, timings.csv
    merge     shards -> one Book
    summary   progress bar and the end-of-run tables
    run       `kata grade` end to end

Each check runs through the engine (runner.check) in a grading slot; the attempt runs in a worker
forked from that slot's fork server inside a sandbox (checker.sandbox): never in a grading
process, never next to another student's code. Scores come only from the reports the checker
computes. Everything written but timings.csv is a pure function of (submissions, katas, seed).
"""
from checker.grading.merge import merge
from checker.grading.outputs import Book, hidden
from checker.grading.plan import GradeError, Options, engine_version, kata_seed, parse_shard
from checker.grading.run import Result, run
from checker.grading.slots import CanaryFailed

__all__ = ["Book", "CanaryFailed", "GradeError", "Options", "Result", "engine_version", "hidden",
           "kata_seed", "merge", "parse_shard", "run"]
