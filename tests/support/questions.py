"""Questions about the sample library (data/sample) and what their answers must hold."""

SEED_QUESTIONS = [
    ("Who said Iran will not be coerced into talks?", "Khamenei"),
    ("Who responded to Khamenei on behalf of the White House?", "Brian Hughes"),
    ("Who heads the U.N. nuclear watchdog?", "Rafael Grossi"),
    (
        "What has Tehran revealed in recent months?",
        "its first drone carrier and an underground naval station",
    ),
]
